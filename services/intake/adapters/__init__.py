"""Adapters: tables and repositories on PostgreSQL."""
