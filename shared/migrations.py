"""Alembic, driven from code: each service keeps its own migrations folder and database.

`upgrade(url, folder)` applies a service's migrations; the service's `env.py` is one line,
`run_env(metadata)`. The DDL helpers below are the shared tables (event store, outbox,
processed events) as they stand at their first revision, so a service's initial migration
creates them without a copy of the column list.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa
from alembic import command, context, op
from alembic.config import Config
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine


def upgrade(database_url: str, migrations: Path, revision: str = "head") -> None:
    """Apply a service's migrations to its database (blocking; run it off the event loop)."""
    config = Config()
    config.set_main_option("script_location", str(migrations))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    command.upgrade(config, revision)


def run_env(target_metadata: sa.MetaData) -> None:
    """The body of every service's `env.py` (online mode, async engine)."""
    url = context.config.get_main_option("sqlalchemy.url")
    assert url is not None, "sqlalchemy.url must be set by upgrade()"

    def migrate(connection: Connection) -> None:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()

    async def main() -> None:
        engine = create_async_engine(url)
        async with engine.connect() as connection:
            await connection.run_sync(migrate)
            await connection.commit()
        await engine.dispose()

    asyncio.run(main())


def create_event_store() -> None:
    """`events` (unique stream_id + version) and `outbox`, as in `shared.eventstore`."""
    op.create_table(
        "events",
        sa.Column("position", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("stream_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False, unique=True),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("envelope", JSONB, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
    )
    create_outbox()


def create_outbox() -> None:
    """`outbox`, as in `shared.eventstore.outbox_table`."""
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )


def create_processed_events() -> None:
    """`processed_events`, as in `shared.consumer`."""
    op.create_table(
        "processed_events",
        sa.Column("event_key", sa.String(200), primary_key=True),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )
