"""Adapters: notify's tables and repositories, the webhook and the SMTP senders."""
