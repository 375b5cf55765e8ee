"""Entrypoints: the HTTP API and the consumer handler."""
