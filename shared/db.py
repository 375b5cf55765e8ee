"""Database engine, sessions and the unit of work.

Engines are made by `bootstrap` at start and disposed at stop, never at import. Only the
unit of work commits; repositories and handlers work inside the session it gives them.
"""

from __future__ import annotations

import contextlib
import time
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from types import TracebackType
from typing import Any

import asyncpg
import orjson
import sqlalchemy as sa
import sqlalchemy.event
import sqlalchemy.exc
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

from shared.database_url import asyncpg_url

# Errors that mean "the database is not reachable right now", not "this input is wrong":
# the work is retried later instead of being refused or dead-lettered.
TRANSIENT_DB_ERRORS: tuple[type[BaseException], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    # Raised by the driver itself, for the statements run on its connection (`driver`,
    # `autocommit_driver`): a connection lost, or closed under the statement.
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InterfaceError,
    # The driver's state broken by a statement cut off on a lost connection.
    asyncpg.exceptions.InternalClientError,
    ConnectionError,
    OSError,
    TimeoutError,
)


# SQLSTATEs of a server that cannot serve right now: class 08 (connection exceptions), and
# 57P01-57P03 (shut down by an administrator, crashed, starting or stopping). A restart of
# PostgreSQL answers with these while it goes down and comes up.
_UNAVAILABLE_STATES = ("08", "57P01", "57P02", "57P03")


def is_transient(exc: BaseException) -> bool:
    """True when `exc` is an outage of the database (retry), not a fault of the work."""
    error: BaseException | None = exc  # the driver's own, from a statement run on it
    if isinstance(exc, sqlalchemy.exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        error = exc.orig
    state = _sqlstate(error)
    if state is not None and state.startswith(_UNAVAILABLE_STATES):
        return True
    # SQLAlchemy's adapter raises its own error over the driver's where a caller reaches it
    # directly (`driver` starting the adapter's transaction on a lost connection).
    cause = getattr(error, "__cause__", None)
    return isinstance(exc, TRANSIENT_DB_ERRORS) or isinstance(cause, TRANSIENT_DB_ERRORS)


# SQLSTATEs of a transaction that lost to a concurrent one: a serialization failure (40001)
# or a deadlock (40P01, PostgreSQL aborts one of the transactions that wait on each other).
# Nothing of it was written, and the same work succeeds when done again: not a fault of it.
_CONFLICT_STATES = ("40001", "40P01")


def is_conflict(exc: BaseException) -> bool:
    """True when `exc` is a transaction that lost to a concurrent one (retry it)."""
    error = exc.orig if isinstance(exc, sqlalchemy.exc.DBAPIError) else exc
    return _sqlstate(error) in _CONFLICT_STATES


def _sqlstate(error: BaseException | None) -> str | None:
    # The driver's error, or the one it wraps (SQLAlchemy's asyncpg adapter).
    for candidate in (error, getattr(error, "__cause__", None)):
        state = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if isinstance(state, str):
            return state
    return None


# A pooled connection that lay idle this long is checked before it is handed out.
IDLE_BEFORE_PING_SECONDS = 1.0


def create_engine(
    url: str, *, pool_size: int = 20, application_name: str | None = None
) -> AsyncEngine:
    """An async engine whose pool checks connections, so that a restarted server is noticed.
    Its connections give the server `application_name`, when given: what `pg_stat_activity`
    and the server's log show of them, so that an operator can tell whose they are.

    The pool keeps `pool_size` connections and opens no more: a caller beyond them waits for
    one to be returned. A new connection costs PostgreSQL a process and asyncpg a round of
    type introspection, tens of milliseconds: a pool that opened more for a burst and
    closed them when returned was, under load, opening and closing connections all the
    time (the key vault's 5, a hundred in a minute), each one slowing the others."""
    engine = _create_async_engine(
        asyncpg_url(url),
        pool_size=pool_size,
        max_overflow=0,
        pool_recycle=1800,
        # Every jsonb value in and out (events' envelopes, tracking's views, notify's facts)
        # through orjson, several times faster than the standard library's json.
        json_serializer=_json_text,
        json_deserializer=orjson.loads,
        connect_args=(
            {"server_settings": {"application_name": application_name}} if application_name else {}
        ),
    )
    _ping_when_idle(engine)
    return engine


def _json_text(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _ping_when_idle(engine: AsyncEngine) -> None:
    """SQLAlchemy's pre-ping, for connections that lay idle in the pool only.

    The pre-ping costs three round trips with asyncpg (BEGIN, an empty statement, ROLLBACK)
    at every checkout: under load, more than the work of a short transaction. A connection
    returned a moment ago was alive then; one that lay idle may have lost a server that
    restarted meanwhile, and a restart takes longer than `IDLE_BEFORE_PING_SECONDS`, so
    every connection that crossed one is still checked, as the pre-ping would. A failed
    check invalidates the pool and connects afresh, as the pre-ping does. (A connection in
    use when the server goes down fails its statement either way: a transient error.)"""
    sync_engine = engine.sync_engine

    @sqlalchemy.event.listens_for(sync_engine, "checkin")
    def _returned(dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @sqlalchemy.event.listens_for(sync_engine, "checkout")
    def _check(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        returned = record.info.get("returned_at")
        if returned is None or time.monotonic() - returned < IDLE_BEFORE_PING_SECONDS:
            return  # fresh, or returned a moment ago
        try:
            sync_engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise sqlalchemy.exc.InvalidatePoolError() from exc


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


class UnitOfWork:
    """One transaction; the only place that commits.

    `on_commit` runs after a successful commit (the outbox relay's wake-up call), so events
    appended in this transaction are published without waiting for the next poll.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._on_commit = on_commit
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("the unit of work is not open")
        return self._session

    async def __aenter__(self) -> UnitOfWork:
        self._session = self._sessions()
        await self._session.begin()
        return self

    async def commit(self) -> None:
        await self.session.commit()
        if self._on_commit is not None:
            self._on_commit()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session, self._session = self.session, None
        try:
            if session.in_transaction():
                await session.rollback()
        finally:
            await session.close()


_AUTOCOMMIT: weakref.WeakKeyDictionary[AsyncEngine, AsyncEngine] = weakref.WeakKeyDictionary()


def _autocommit(engine: AsyncEngine) -> AsyncEngine:
    """The engine's AUTOCOMMIT view (same pool), made once per engine."""
    found = _AUTOCOMMIT.get(engine)
    if found is None:
        found = _AUTOCOMMIT[engine] = engine.execution_options(isolation_level="AUTOCOMMIT")
    return found


def any_of(values: Sequence[str]) -> sa.ColumnElement[Any]:
    """`= any_of(values)`: one array parameter, so the statement's text (and the statement
    the driver prepares) is the same however many values there are; `IN` takes one
    parameter per value."""
    return sa.any_(sa.bindparam(None, list(values), type_=ARRAY(sa.Text)))


_DRIVER = "driver_connection"


async def driver(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under the session's transaction. The statements every event
    runs (recording it as processed, loading and appending a stream) go to it directly, in
    the same transaction: through the session, compiling, executing and reading them back
    took about as much of a service's CPU as everything else it did for the event. A jsonb
    value goes in as its JSON text and comes out decoded (the engine's codecs)."""
    # Kept for the rest of the transaction: a handler asks for it at every statement, and
    # finding it through the session costs 23 µs each time. The transaction itself is the
    # key (held here, so no later one can take its identity).
    transaction = session.sync_session.get_transaction()
    kept = session.info.get(_DRIVER)
    if kept is not None and transaction is not None and kept[0] is transaction:
        found: asyncpg.Connection = kept[1]
        return found
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    # SQLAlchemy's adapter sends BEGIN with the first statement it runs itself: a statement
    # run here first would otherwise commit on its own. Started as the adapter would; an
    # adapter without these (another SQLAlchemy) gets a first statement of its own instead.
    adapter: Any = raw.dbapi_connection
    if not (hasattr(adapter, "_transaction") and hasattr(adapter, "_start_transaction")):
        await session.execute(sa.text("SELECT 1"))
    elif adapter._transaction is None and not adapter.autocommit:
        await adapter._start_transaction()
    found = raw.driver_connection
    session.info[_DRIVER] = (session.sync_session.get_transaction(), found)
    return found


@contextlib.asynccontextmanager
async def autocommit_driver(engine: AsyncEngine) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection's asyncpg connection, outside any transaction: each statement is
    its own. For work of one or two statements of which none needs another to be atomic (a
    submission): in a `UnitOfWork` that was two round trips more (BEGIN and COMMIT) and the
    session's machinery, about half of its client CPU in the database. A failure other than
    the server's answer to a statement (the connection lost, a statement cut off halfway)
    discards the connection instead of returning it: the pool notices a lost connection
    only through its own statements, and these are not."""
    async with _autocommit(engine).connect() as connection:
        raw = await connection.get_raw_connection()
        found: asyncpg.Connection = raw.driver_connection
        try:
            yield found
        except BaseException as exc:
            if not isinstance(exc, asyncpg.PostgresError) or found.is_closed():
                await connection.invalidate()
            raise


def quoted(table: sa.Table) -> str:
    """The table's name as a statement written by hand names it."""
    return ".".join(f'"{part}"' for part in (table.schema, table.name) if part)
