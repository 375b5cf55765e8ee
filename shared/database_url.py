"""The URL of a service's database, in the one form the services speak: asyncpg's.

Platforms hand out PostgreSQL URLs as `postgresql://…` or `postgres://…` (an operator's
secret, a managed server's console). SQLAlchemy reads the first with psycopg and the second
not at all, and the services run the statements of every event on asyncpg's own connection
(shared.db.driver): given as they come, such a URL started a service that failed at its
first request (`'AsyncConnection' object has no attribute 'fetch'`). They are taken as the
same server reached through asyncpg, with libpq's `sslmode` as asyncpg's `ssl` (the same
modes: `require`, `verify-full`, ...), which asyncpg would refuse as an unknown argument at
the first connection. A URL naming another driver or database, or a parameter asyncpg does
not take (libpq's `sslrootcert`, `application_name`, ...: SQLAlchemy hands the URL's
parameters to asyncpg's `connect` as they are), is refused at start, naming the setting.
"""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

ASYNCPG = "postgresql+asyncpg"
# Schemes that name PostgreSQL without a driver: the same server, reached through asyncpg.
_PLAIN = {"postgresql", "postgres"}
# The URL parameters asyncpg's `connect` takes as text, and SQLAlchemy's own for it.
_PARAMETERS = {
    "host",
    "port",
    "user",
    "password",
    "passfile",
    "database",
    "service",
    "servicefile",
    "ssl",
    "target_session_attrs",
    "krbsrvname",
    "gsslib",
    "prepared_statement_cache_size",
}


class DatabaseUrlError(ValueError):
    """A database URL the services cannot use; says why without echoing it (it may hold
    a password)."""


def asyncpg_url(url: str) -> str:
    """`url` with asyncpg as its driver; DatabaseUrlError for a URL of another driver or
    database, or none at all."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUrlError(
            "is not a database URL (expected postgresql+asyncpg://user@host:port/database)"
        ) from None
    if parsed.drivername not in _PLAIN | {ASYNCPG}:
        raise DatabaseUrlError(
            f"names the driver {parsed.drivername!r}; the services reach PostgreSQL through "
            f"asyncpg: {ASYNCPG}:// (postgresql:// and postgres:// are taken as it)"
        )
    query = dict(parsed.query)
    if "sslmode" in query:
        query["ssl"] = query.pop("sslmode")
    if unknown := sorted(set(query) - _PARAMETERS):
        raise DatabaseUrlError(
            f"has parameters asyncpg does not take: {', '.join(unknown)} (it takes "
            f"{', '.join(sorted(_PARAMETERS))}; sslmode is read as ssl, and with it the "
            "certificate files come from PGSSLROOTCERT, PGSSLCERT and PGSSLKEY)"
        )
    if parsed.drivername == ASYNCPG and query == parsed.query:
        return url  # as given, byte for byte
    return parsed.set(drivername=ASYNCPG, query=query).render_as_string(hide_password=False)


def asyncpg_dsn(url: str, *, database: str | None = None) -> str:
    """The same server (and `database`, when given) as a DSN for asyncpg's own `connect`,
    which reads libpq's names: `ssl` goes back to `sslmode` (asyncpg takes a parameter of
    the DSN it does not know for a server setting, and the server refuses `ssl` as one)."""
    parsed = make_url(asyncpg_url(url))
    query = dict(parsed.query)
    if "ssl" in query:
        query["sslmode"] = query.pop("ssl")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.set(drivername="postgresql", query=query).render_as_string(hide_password=False)
