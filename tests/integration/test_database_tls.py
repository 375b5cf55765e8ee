"""A service reaches a production PostgreSQL over TLS, as deploy/'s Secrets name it.

The server is the test one behind a front that takes only TLS connections
(tests/support/postgres_tls.py says why). The URL is given as a managed server's console
gives it (`postgres://…?sslmode=verify-full`, the CA in PGSSLROOTCERT): the service's own
connections, the migration Job's database creation and migrations, and the auditors'
verification in several processes, which hands the URL to asyncpg's own connect, all reach
the server through it; a client that does not check the server's certificate against that
CA, or does not ask for TLS at all, gets nowhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
import sqlalchemy as sa

from services.routing.settings import Settings as RoutingSettings
from shared.database_url import asyncpg_dsn
from shared.db import create_engine, driver, session_factory
from tests.support.infra import fresh_database
from tests.support.postgres_tls import TlsPostgres, postgres_behind_tls
from tests.support.tls import Authority

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tls_postgres(tmp_path_factory: pytest.TempPathFactory, pg_server: str) -> Iterator[TlsPostgres]:
    with postgres_behind_tls(tmp_path_factory.mktemp("pg-pki"), pg_server) as server:
        yield server


def as_a_console_gives_it(server: TlsPostgres, database: str, mode: str) -> str:
    url = sa.make_url(server.url).set(drivername="postgres", database=database)
    return url.update_query_dict({"sslmode": mode}).render_as_string(hide_password=False)


async def test_a_service_its_migrations_and_the_audit_reach_the_database_over_tls(
    tls_postgres: TlsPostgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGSSLROOTCERT", str(tls_postgres.authority.cafile))
    server = as_a_console_gives_it(tls_postgres, "postgres", "verify-full")
    before = tls_postgres.front.encrypted

    # The migration Job's work: a database created, then migrated.
    url = await fresh_database("routing", server)
    name = sa.make_url(url).database
    # The service, from its settings.
    settings = RoutingSettings(database_url=url)
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        async with session_factory(engine)() as session, session.begin():
            connection = await driver(session)
            assert await connection.fetchval("SELECT count(*) FROM processed_events") == 0
    finally:
        await engine.dispose()
    # The auditors' verification in other processes (the archive's `dsn`).
    direct = await asyncpg.connect(asyncpg_dsn(url))
    try:
        assert await direct.fetchval("SELECT current_database()") == name
    finally:
        await direct.close()

    assert tls_postgres.front.encrypted > before
    assert tls_postgres.front.refused == 0


async def test_a_server_whose_certificate_another_ca_signed_is_not_trusted(
    tls_postgres: TlsPostgres, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PGSSLROOTCERT", str(Authority(tmp_path, "elsewhere").cafile))
    engine = create_engine(as_a_console_gives_it(tls_postgres, "postgres", "verify-full"))
    try:
        with pytest.raises(Exception, match="certificate verify failed"):
            async with engine.connect() as connection:
                await connection.execute(sa.text("SELECT 1"))
    finally:
        await engine.dispose()


async def test_a_client_that_does_not_ask_for_tls_is_refused(tls_postgres: TlsPostgres) -> None:
    refused = tls_postgres.front.refused
    with pytest.raises((ConnectionError, OSError, asyncpg.PostgresError)):
        await asyncpg.connect(
            asyncpg_dsn(as_a_console_gives_it(tls_postgres, "postgres", "disable"))
        )
    assert tls_postgres.front.refused == refused + 1
