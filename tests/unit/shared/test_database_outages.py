"""What counts as the database being away (the work waits and is retried) rather than the
work being wrong (refused, or dead-lettered)."""

from __future__ import annotations

import asyncpg
import pytest
import sqlalchemy.exc
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_dbapi

from shared.db import is_transient


def wrapped(error: Exception) -> sqlalchemy.exc.DBAPIError:
    """As SQLAlchemy's asyncpg adapter raises a driver error."""
    adapted = Exception(str(error))
    adapted.__cause__ = error
    return sqlalchemy.exc.DBAPIError("SELECT 1", {}, adapted)


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.exceptions.CannotConnectNowError("the database system is shutting down"),
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator"),
        asyncpg.exceptions.ConnectionFailureError("connection failure"),
    ],
)
def test_a_server_going_down_or_coming_up_is_waited_out(error: Exception) -> None:
    assert is_transient(wrapped(error))


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator"),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle"),
    ],
)
def test_the_same_raised_by_the_driver_itself_is_waited_out(error: Exception) -> None:
    # A statement run on the driver's connection (shared.db.driver) raises it unwrapped.
    assert is_transient(error)
    assert not is_transient(asyncpg.exceptions.UniqueViolationError("duplicate key value"))


def test_a_lost_connection_as_the_adapter_raises_it_unwrapped_is_waited_out() -> None:
    # Where `driver` starts the adapter's transaction itself, the adapter's own error comes
    # out, not SQLAlchemy's wrapper of it.
    adapter_error = AsyncAdapt_asyncpg_dbapi.InterfaceError("connection is closed")
    adapter_error.__cause__ = asyncpg.exceptions.InterfaceError("connection is closed")

    assert is_transient(adapter_error)


def test_a_refused_connection_is_waited_out() -> None:
    assert is_transient(ConnectionRefusedError(111, "Connect call failed"))


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.exceptions.UniqueViolationError("duplicate key value"),
        asyncpg.exceptions.UntranslatableCharacterError("unsupported Unicode escape sequence"),
    ],
)
def test_a_fault_of_the_work_is_not(error: Exception) -> None:
    assert not is_transient(wrapped(error))
