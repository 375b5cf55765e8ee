"""Entrypoints: the HTTP API and the event handler of the consumer."""
