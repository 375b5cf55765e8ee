"""The real PostgreSQL and broker the tests run against, and fresh databases and topics.

`make test` starts one PostgreSQL and one broker for the whole run and names them in
MLA_TEST_POSTGRES_URL / MLA_TEST_KAFKA; every test worker makes its own databases and
topics on them. Run pytest alone and each worker starts its own instead (slower).
Point MLA_TEST_POSTGRES_URL at any server (the machine's PostgreSQL, say) to use it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Awaitable, Callable
from functools import cache
from pathlib import Path

from shared.kafka import ensure_topics


@cache
def postgres_url() -> str:
    """The server URL (database `postgres`) of the test PostgreSQL."""
    if url := os.environ.get("MLA_TEST_POSTGRES_URL"):
        return url
    from devstack.broker import free_port
    from devstack.postgres import EmbeddedPostgres

    folder = Path(tempfile.mkdtemp(prefix="mla-test-"))
    server = EmbeddedPostgres(folder / "pg" / "data", free_port(), fast_and_unsafe=True)
    server.start()
    import atexit

    def stop() -> None:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)

    atexit.register(stop)
    os.environ["MLA_TEST_POSTGRES_URL"] = server.url()
    return server.url()


@cache
def kafka_bootstrap() -> str:
    """The bootstrap servers of the test broker."""
    if servers := os.environ.get("MLA_TEST_KAFKA"):
        return servers
    from devstack.broker import EmbeddedBroker, free_port

    broker = EmbeddedBroker(free_port())
    broker.start()
    import atexit

    atexit.register(broker.stop)
    os.environ["MLA_TEST_KAFKA"] = broker.bootstrap_servers
    return broker.bootstrap_servers


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


async def fresh_database(
    service: str, server_url: str | None = None, *, migrations: Path | None = None
) -> str:
    """A new database with `service`'s migrations (or those in `migrations`) applied;
    returns its URL."""
    from sqlalchemy.engine import make_url

    from devstack.provision import create_database, migrate
    from devstack.services import ServiceSpec

    server = make_url(server_url or postgres_url())
    name = unique(f"t_{service}")
    await create_database(server.render_as_string(hide_password=False), name)
    url = server.set(database=name).render_as_string(hide_password=False)
    folder = migrations or ServiceSpec(service).migrations
    await asyncio.to_thread(_migrate_one_at_a_time, migrate, url, folder)
    return url


_alembic = threading.Lock()


def _migrate_one_at_a_time(migrate: Callable[..., None], *args: object) -> None:
    # Alembic keeps its migration context in module globals: one migration at a time.
    with _alembic:
        migrate(*args)


async def fresh_topic(bootstrap: str | None = None, partitions: int = 3) -> str:
    """A new lifecycle topic (and its DLQ) for one test or one stack."""
    topic = unique("mla.request-lifecycle.test").replace("_", "-")
    await ensure_topics(bootstrap or kafka_bootstrap(), {topic: partitions, f"{topic}.dlq": 1})
    return topic


async def eventually(
    check: Callable[[], Awaitable[object]],
    *,
    timeout: float = 60,
    interval: float = 0.1,
    what: str = "",
) -> object:
    """Poll `check` until it returns something truthy; fail with `what` after `timeout`
    (a limit against a hang, not a measure of speed: it returns as soon as the check holds,
    and a slow machine under the parallel suite takes several seconds a hop)."""
    deadline = asyncio.get_running_loop().time() + timeout
    last: object = None
    while asyncio.get_running_loop().time() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"not within {timeout}s: {what} (last: {last!r})")
