"""The pool's check of idle connections (shared/db.py): a connection whose server side went
away while it lay idle is replaced before anyone uses it; a busy pool is not checked."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from devstack.provision import create_database
from services.routing.settings import Settings as RoutingSettings
from shared import db
from shared.database_url import asyncpg_dsn
from shared.runtime import build_runtime
from tests.support.infra import fresh_database, unique

pytestmark = pytest.mark.integration


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(sa.text("SELECT pg_backend_pid()")))


async def _terminate(url: str, pid: int) -> None:
    other = db.create_engine(url, pool_size=1)
    try:
        async with other.connect() as connection:
            await connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await other.dispose()


async def test_an_idle_connection_whose_backend_went_away_is_replaced_unnoticed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = await fresh_database("intake")
    engine = db.create_engine(url, pool_size=1)
    try:
        first = await _backend_pid(engine)
        await _terminate(url, first)  # as a restart of the server would
        monkeypatch.setattr(db, "IDLE_BEFORE_PING_SECONDS", 0.0)  # it lay idle long enough
        assert await _backend_pid(engine) != first
    finally:
        await engine.dispose()


async def test_a_connection_returned_a_moment_ago_is_handed_out_unchecked() -> None:
    url = await fresh_database("intake")
    engine = db.create_engine(url, pool_size=1)
    try:
        first = await _backend_pid(engine)
        assert await _backend_pid(engine) == first  # the same connection, no round trip more
        await _terminate(url, first)
        # Unchecked, its statement fails as any statement on a lost connection does (a
        # transient error the callers retry), and the pool connects afresh after it.
        with pytest.raises(sa.exc.DBAPIError) as failed:
            await _backend_pid(engine)
        assert db.is_transient(failed.value)
        assert await _backend_pid(engine) != first
    finally:
        await engine.dispose()


async def test_what_runs_on_the_driver_is_part_of_the_sessions_transaction() -> None:
    url = await fresh_database("intake")
    engine = db.create_engine(url, pool_size=1)
    sessions = db.session_factory(engine)
    statement = "INSERT INTO idempotency_keys (key, fingerprint, request_id) VALUES ($1, 'f', 'r')"

    async def kept(key: str) -> bool:
        async with sessions() as session:
            found = await session.scalar(
                sa.text("SELECT count(*) FROM idempotency_keys WHERE key = :key"), {"key": key}
            )
            return bool(found)

    try:
        # The driver's statement first: the transaction must have begun under it.
        async with sessions() as session, session.begin():
            await (await db.driver(session)).execute(statement, "rolled-back")
            await session.rollback()
        async with sessions() as session, session.begin():
            await (await db.driver(session)).execute(statement, "committed")
        # One session, one transaction after another: each its own BEGIN under the driver.
        async with sessions() as session:
            async with session.begin():
                await (await db.driver(session)).execute(statement, "first")
            async with session.begin():
                await (await db.driver(session)).execute(statement, "second, rolled back")
                await session.rollback()
            async with session.begin():
                await (await db.driver(session)).execute(statement, "third")
        assert not await kept("rolled-back")
        assert await kept("committed")
        assert await kept("first") and await kept("third")
        assert not await kept("second, rolled back")
    finally:
        await engine.dispose()


async def test_a_connection_lost_under_single_statements_is_not_handed_out_again() -> None:
    # Statements run on the driver's connection outside any transaction (a submission's):
    # the pool cannot see their failures, so the lost connection is discarded by hand.
    url = await fresh_database("intake")
    engine = db.create_engine(url, pool_size=1)
    try:
        async with db.autocommit_driver(engine) as connection:
            first = await connection.fetchval("SELECT pg_backend_pid()")
        await _terminate(url, first)

        with pytest.raises(Exception) as failed:
            async with db.autocommit_driver(engine) as connection:
                await connection.fetchval("SELECT 1")
        assert db.is_transient(failed.value), repr(failed.value)

        async with db.autocommit_driver(engine) as connection:
            assert await connection.fetchval("SELECT pg_backend_pid()") != first
    finally:
        await engine.dispose()


async def test_a_refused_statement_leaves_its_connection_in_the_pool() -> None:
    url = await fresh_database("intake")
    engine = db.create_engine(url, pool_size=1)
    try:
        async with db.autocommit_driver(engine) as connection:
            first = await connection.fetchval("SELECT pg_backend_pid()")
        with pytest.raises(asyncpg.PostgresError):
            async with db.autocommit_driver(engine) as connection:
                await connection.execute("SELECT 1/0")
        async with db.autocommit_driver(engine) as connection:
            assert await connection.fetchval("SELECT pg_backend_pid()") == first
    finally:
        await engine.dispose()


async def test_an_engine_made_from_a_plain_postgresql_url_runs_on_asyncpg() -> None:
    # What a platform's secret holds: without the driver's name. The statements of every
    # event run on asyncpg's own connection (`db.driver`), which psycopg's lacks.
    url = sa.make_url(await fresh_database("intake")).set(drivername="postgresql")
    engine = db.create_engine(url.render_as_string(hide_password=False), pool_size=1)
    try:
        async with db.session_factory(engine)() as session, session.begin():
            connection = await db.driver(session)
            assert isinstance(connection, asyncpg.Connection)
            assert await connection.fetchval("SELECT 1") == 1
    finally:
        await engine.dispose()


async def test_a_url_that_asks_for_tls_by_asyncpgs_name_reaches_the_server_everywhere() -> None:
    # As deploy/'s Secrets write it (`?ssl=require`; the test server takes `disable`): the
    # services read it, and so do the migration Job's database creation and the auditors'
    # verification in several processes, which hand it to asyncpg's own connect. Before,
    # those two sent `ssl` to the server as a setting, which it refused.
    url = sa.make_url(await fresh_database("intake"))
    with_tls = url.update_query_dict({"ssl": "disable"}).render_as_string(hide_password=False)
    name = unique("t_created")
    assert await create_database(with_tls, name)
    connection = await asyncpg.connect(asyncpg_dsn(with_tls))
    try:
        assert await connection.fetchval("SELECT current_database()") == url.database
    finally:
        await connection.close()
    engine = db.create_engine(with_tls, pool_size=1)
    try:
        assert await _backend_pid(engine) > 0
    finally:
        await engine.dispose()


async def test_an_instance_keeps_as_many_connections_as_its_pool_size_setting_and_no_more() -> None:
    # Every instance of every service, times this, must fit the server's max_connections:
    # an operator sizes it (DATABASE_POOL_SIZE) to the replicas the autoscaler may make, and
    # tells in pg_stat_activity whose connections are whose.
    url = await fresh_database("intake")
    settings = RoutingSettings(database_url=url, database_pool_size=2)
    runtime = build_runtime(
        service="routing", settings=settings, outbox=None, processed=None, handler=None
    )
    try:
        async with runtime.engine.connect() as first, runtime.engine.connect() as second:
            assert len({await _pid(first), await _pid(second)}) == 2  # two in use
            names = await _names_of_connections_to(url)
            assert names.count("mla-routing") == 2
            with pytest.raises(TimeoutError):  # a third caller waits for one of them
                async with asyncio.timeout(0.5), runtime.engine.connect():
                    pass
    finally:
        await runtime.engine.dispose()


async def _names_of_connections_to(url: str) -> list[str]:
    """The application names of the connections to the database of `url`, as an operator
    reads them."""
    watcher = await asyncpg.connect(asyncpg_dsn(url))
    try:
        rows = await watcher.fetch(
            "SELECT application_name FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [row[0] for row in rows]
    finally:
        await watcher.close()


async def _pid(connection: AsyncConnection) -> int:
    return int(await connection.scalar(sa.text("SELECT pg_backend_pid()")))
