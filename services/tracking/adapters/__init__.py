"""Adapters: read-model tables and their queries."""
