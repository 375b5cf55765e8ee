"""Adapters: notify's tables."""
