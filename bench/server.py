"""The PostgreSQL the benchmark runs on: a throw-away embedded server in a temporary folder,
or the server `MLA_BENCH_POSTGRES_URL` names (its databases are then created, never dropped).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from devstack.broker import free_port
from devstack.postgres import EmbeddedPostgres
from devstack.provision import create_database, migrate
from devstack.services import ServiceSpec
from shared.database_url import asyncpg_dsn

# What an operator sets on any server holding a million requests; the rest are defaults.
TUNING = {
    "shared_buffers": "2GB",
    "effective_cache_size": "8GB",
    "work_mem": "32MB",
    # A benchmark's tables grow from nothing in seconds. A service's statements are prepared
    # once per connection, and a plan kept from while a table held a handful of rows reads
    # a key by scanning the whole table until the table's first ANALYZE makes it planned
    # again, which autovacuum runs within its nap of a minute on a server in service: the
    # benchmark, which measures such a server, not its first minute, looks every 5 s.
    "autovacuum_naptime": "5s",
}


@contextmanager
def postgres_server() -> Iterator[str]:
    """The server's URL (postgresql+asyncpg://…/postgres) for as long as the block runs."""
    given = os.environ.get("MLA_BENCH_POSTGRES_URL")
    if given:
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="mla-bench-") as folder:
        # A folder below the temporary one: the server runs as its own user, which must be
        # able to reach it (EmbeddedPostgres opens the folders above the data folder to it).
        server = EmbeddedPostgres(Path(folder) / "pg" / "data", free_port())
        server.start()
        try:
            asyncio.run(_tune(server.url()))
            server.stop()  # shared_buffers takes effect on a restart
            server.start()
            yield server.url()
        finally:
            server.stop()


async def _tune(url: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        for name, value in TUNING.items():
            await connection.execute(f"ALTER SYSTEM SET {name} = '{value}'")
    finally:
        await connection.close()


def fresh_database(server_url: str, name: str) -> str:
    """A new database `name` with tracking's migrations applied; its URL."""
    url = empty_database(server_url, name)
    migrate(url, ServiceSpec("tracking").migrations)
    return url


def empty_database(server_url: str, name: str) -> str:
    """Database `name` on the server, dropped first if it was there (no migrations); its URL."""
    asyncio.run(_recreate(server_url, name))
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


async def _recreate(server_url: str, name: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(server_url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()
    await create_database(server_url, name)


def over_tcp(url: str) -> str:
    """The same server and database reached over TCP on 127.0.0.1 when `url` names a Unix
    socket's folder (the embedded server listens on both)."""
    parsed = make_url(url)
    folder, port = parsed.query.get("host"), parsed.query.get("port")
    if not folder:
        return url
    tcp = parsed.difference_update_query(["host", "port"]).set(
        host="127.0.0.1", port=int(port or 5432)
    )
    return tcp.render_as_string(hide_password=False)


def eventsourcing_settings(database_url: str) -> dict[str, str]:
    """The `eventsourcing` library's settings (its POSTGRES_* variables) for one database,
    for the comparisons on the same server; over TCP (`bench.append.compare` says why)."""
    url = make_url(over_tcp(database_url))
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": url.database or "",
        "POSTGRES_HOST": url.host or "127.0.0.1",
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": url.username or "postgres",
        "POSTGRES_PASSWORD": url.password or "",
    }
