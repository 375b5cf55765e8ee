"""Entrypoints: the HTTP API and the projector the consumer calls."""
