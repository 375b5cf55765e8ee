"""Databases, migrations and topics: what must exist before the services start."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg

from shared import migrations
from shared.database_url import asyncpg_dsn
from shared.kafka import ensure_topics
from shared.settings import LIFECYCLE_TOPIC


async def create_database(server_url: str, name: str) -> bool:
    """Create database `name` on the server of `server_url` unless it exists."""
    connection = await asyncpg.connect(asyncpg_dsn(server_url, database="postgres"))
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await connection.execute(f'CREATE DATABASE "{name}"')
        return not exists
    finally:
        await connection.close()


def migrate(database_url: str, folder: Path) -> None:
    """Apply a service's migrations (blocking)."""
    migrations.upgrade(database_url, folder)


def create_topics(
    bootstrap_servers: str, partitions: int, topic: str = LIFECYCLE_TOPIC
) -> list[str]:
    """The lifecycle topic (several partitions, keyed by request id) and its dead-letter topic."""
    return asyncio.run(ensure_topics(bootstrap_servers, {topic: partitions, f"{topic}.dlq": 1}))
