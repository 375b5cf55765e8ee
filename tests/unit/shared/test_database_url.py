"""A database URL as platforms hand it out (`postgres://`, `postgresql://`, libpq's
`sslmode`) starts the services on asyncpg; one naming another driver is refused at start,
naming the setting and never echoing the URL (shared/database_url.py)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.intake.settings import Settings as IntakeSettings
from services.routing.settings import Settings as RoutingSettings
from shared.database_url import DatabaseUrlError, asyncpg_dsn, asyncpg_url


def test_a_url_of_asyncpg_is_taken_as_given() -> None:
    url = "postgresql+asyncpg://postgres@/mla_intake?host=/tmp/pg&port=5432"
    assert asyncpg_url(url) == url


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_a_plain_postgresql_url_is_the_same_server_through_asyncpg(scheme: str) -> None:
    url = asyncpg_url(f"{scheme}://mla:p%40ss@db.example:5433/mla_routing")
    assert url == "postgresql+asyncpg://mla:p%40ss@db.example:5433/mla_routing"


def test_libpq_sslmode_becomes_asyncpg_ssl_with_the_same_mode() -> None:
    url = asyncpg_url("postgres://mla@db.example/mla?sslmode=verify-full")
    assert url == "postgresql+asyncpg://mla@db.example/mla?ssl=verify-full"


def test_a_parameter_asyncpg_does_not_take_is_refused_by_name() -> None:
    # Passed on to asyncpg's connect as it is, it failed every connection.
    with pytest.raises(DatabaseUrlError, match="sslrootcert") as refused:
        asyncpg_url("postgres://mla@db.example/mla?sslmode=verify-full&sslrootcert=/ca.pem")
    assert "PGSSLROOTCERT" in str(refused.value)


@pytest.mark.parametrize(
    "url", ["postgresql+psycopg://mla@db/mla", "mysql://mla@db/mla", "sqlite:///mla.db"]
)
def test_another_driver_or_database_is_refused(url: str) -> None:
    with pytest.raises(DatabaseUrlError, match="asyncpg"):
        asyncpg_url(url)


def test_a_service_given_a_plain_url_runs_on_asyncpg() -> None:
    settings = RoutingSettings(database_url="postgres://mla@db.example/mla_routing")
    assert settings.database_url == "postgresql+asyncpg://mla@db.example/mla_routing"


def test_a_service_refuses_another_driver_naming_the_setting_not_the_password() -> None:
    with pytest.raises(ValidationError) as refused:
        IntakeSettings(database_url="postgresql+psycopg://mla:hunter2@db.example/mla_intake")
    message = str(refused.value)
    assert "database_url" in message and "'postgresql+psycopg'" in message
    assert "hunter2" not in message


def test_the_key_vault_url_is_read_the_same_way() -> None:
    settings = IntakeSettings(vault_database_url="postgresql://mla@db.example/mla_vault")
    assert settings.vault_url == "postgresql+asyncpg://mla@db.example/mla_vault"
    with pytest.raises(ValidationError, match="vault_database_url"):
        IntakeSettings(vault_database_url="mysql://mla@db.example/mla_vault")


def test_asyncpgs_own_connect_is_given_libpqs_names() -> None:
    # It reads a DSN's parameters as libpq does and sends those it does not know to the
    # server as settings: `ssl` goes back to `sslmode`.
    url = "postgresql+asyncpg://mla:p%40ss@db.example/mla_tracking?ssl=verify-full"
    assert asyncpg_dsn(url) == "postgresql://mla:p%40ss@db.example/mla_tracking?sslmode=verify-full"
    assert asyncpg_dsn(url, database="postgres").endswith("/postgres?sslmode=verify-full")
