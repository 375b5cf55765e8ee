"""Adapters: tables, repositories and the directory store on PostgreSQL."""
