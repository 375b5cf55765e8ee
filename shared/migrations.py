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

from shared.database_url import asyncpg_url


def upgrade(database_url: str, migrations: Path, revision: str = "head") -> None:
    """Apply a service's migrations to its database (blocking; run it off the event loop)."""
    config = Config()
    config.set_main_option("script_location", str(migrations))
    config.set_main_option("sqlalchemy.url", asyncpg_url(database_url).replace("%", "%%"))
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
    """`processed_events`, as `shared.message_handling` records into it."""
    op.create_table(
        "processed_events",
        sa.Column("event_key", sa.String(200), primary_key=True),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )


# The largest row PostgreSQL keeps in its page (8 kB pages): the most `toast_tuple_target` takes.
INLINE_ROW_BYTES = 8160


def keep_rows_inline(*tables: str) -> None:
    """Rows of these tables stay in their page, uncompressed, up to `INLINE_ROW_BYTES`.

    Their large values are envelopes and views of 3-5 kB, mostly the sealed personal data
    of a request: ciphertext in base64, which compression barely shrinks (3.2 kB of a 4.3
    kB view). Past 2 kB, by default, PostgreSQL tried to compress each such value and, still
    too large, moved it to the table's TOAST table in two chunks with their index entries:
    a fifth of the cost of an append (250 → 195-205 µs measured for a 3.5 kB envelope)."""
    for table in tables:
        op.execute(f'ALTER TABLE "{table}" SET (toast_tuple_target = {INLINE_ROW_BYTES})')


def toast_rows_again(*tables: str) -> None:
    """The downgrade of `keep_rows_inline`: PostgreSQL's default again (new rows only)."""
    for table in tables:
        op.execute(f'ALTER TABLE "{table}" RESET (toast_tuple_target)')


# The GCRA of shared/rate_allowance.py: the principal's row is locked, the tokens it can
# give now (its burst less what its bucket owes, in whole tokens) granted up to those
# wanted, and the moment it is full again moved on by them. Server time, so that the
# instances' clocks need not agree; `wait` says when one token is back.
_CLAIM_RATE_ALLOWANCE = """
CREATE FUNCTION claim_rate_allowance(
    p_client varchar, p_wanted integer, p_burst integer, p_interval double precision,
    OUT granted integer, OUT wait double precision
) LANGUAGE plpgsql AS $$
DECLARE
    now_s double precision := extract(epoch FROM clock_timestamp());
    owed double precision;
BEGIN
    INSERT INTO rate_allowances (client, full_at) VALUES (p_client, now_s)
        ON CONFLICT (client) DO NOTHING;
    SELECT greatest(full_at - now_s, 0) INTO owed
        FROM rate_allowances WHERE client = p_client FOR UPDATE;
    granted := least(p_wanted, greatest(floor(p_burst - owed / p_interval + 1e-9), 0))::integer;
    UPDATE rate_allowances SET full_at = now_s + owed + granted * p_interval
        WHERE client = p_client;
    wait := CASE WHEN granted > 0 THEN 0 ELSE owed + p_interval - p_burst * p_interval END;
END $$
"""


def create_rate_allowances() -> None:
    """`rate_allowances` and the function that takes from them (shared/rate_allowance.py).
    Unlogged: an allowance is worth nothing after a crash (it refills within seconds), and
    no claim waits for the disk."""
    op.execute(
        "CREATE UNLOGGED TABLE rate_allowances ("
        "client varchar(200) PRIMARY KEY, full_at double precision NOT NULL)"
    )
    op.execute(_CLAIM_RATE_ALLOWANCE)


def drop_rate_allowances() -> None:
    """The downgrade of `create_rate_allowances`."""
    op.execute("DROP FUNCTION claim_rate_allowance")
    op.execute("DROP TABLE rate_allowances")
