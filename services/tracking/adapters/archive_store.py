"""The archive in PostgreSQL: appended in the consumer's transaction, one writer at a time.

Appends are serialised by a transaction-scoped advisory lock, so that two tracking
instances never both chain onto the same head; the lock is held only until the consuming
transaction commits. A replay that rebuilds the read models takes the same lock, so that no
event is projected while they are replaced.

Reading the whole archive (export, verify, replay) is the hot path at a million entries: it
pages with the driver directly (keyset, 10,000 entries a page, no ORM rows), and `consume`
hands the entries to CPU-bound work in a worker thread while the next page is fetched.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncGenerator, Callable, Iterator, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.tracking.adapters.driver import consume_in_thread
from services.tracking.adapters.tables import archive, checkpoints
from services.tracking.domain.archive import (
    GENESIS,
    Checkpoint,
    Entry,
    canonical_bytes,
    chain_hash,
)
from shared.database_url import asyncpg_dsn
from shared.db import driver
from shared.events.envelope import CloudEvent

ARCHIVE_LOCK = zlib.crc32(b"tracking:archive")
PAGE = 10_000
_PAGE_SQL = (
    "SELECT position, prev_hash, hash, body FROM archive WHERE position > $1 AND position <= $2 "
    "ORDER BY position LIMIT $3"
)


def share_condition(first_parameter: int, column: str = "request_id") -> str:
    """SQL true for the requests of share k of n (the query's parameters `first_parameter`
    and the one after it) by a hash of their id: for a fold on several cores, each
    request's events all fall in the same share, and so does its view."""
    k, n = first_parameter, first_parameter + 1
    return f"mod(hashtext({column})::bigint + 2147483648, ${n}) = ${k}"


_SHARE_SQL = (
    "SELECT position, prev_hash, hash, body FROM archive WHERE position > $1 AND position <= $2 "
    f"AND {share_condition(3, 'subject')} ORDER BY position LIMIT $5"
)
# Written by hand and run on the driver's connection: they run for every batch of events
# tracking takes in (through the session, each cost as much again in compiling and reading).
_LOCK_SQL = "SELECT pg_advisory_xact_lock($1)"
_HEAD_SQL = "SELECT position, hash FROM archive ORDER BY position DESC LIMIT 1"
_APPEND_SQL = (
    "INSERT INTO archive (position, event_id, source, type, subject, time, body, prev_hash, hash) "
    "SELECT * FROM unnest($1::bigint[], $2::varchar[], $3::varchar[], $4::varchar[], "
    "$5::varchar[], $6::timestamptz[], $7::bytea[], $8::bytea[], $9::bytea[])"
)
_T = TypeVar("_T")


class ArchiveStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def lock(self) -> None:
        """Hold the archive's writer lock until the transaction ends."""
        await (await driver(self._session)).execute(_LOCK_SQL, ARCHIVE_LOCK)

    async def append_all(self, events: Sequence[CloudEvent]) -> list[Entry]:
        """Chain the events, in order, onto the head of the archive: the lock taken and the
        head read once, the entries inserted in one statement. The head read here stays the
        head until the transaction ends: the lock keeps every other writer out until then.
        (Two statements, not one: a statement's snapshot is taken as it starts, before a
        lock it waits for inside, and would miss the head the last holder wrote.)"""
        await self.lock()
        position, head_hash = await self.head()
        entries: list[Entry] = []
        columns: list[list[Any]] = [[] for _ in range(9)]
        for event in events:
            body = canonical_bytes(event.model_dump(mode="json", exclude_none=True))
            entry = Entry(
                position=position + 1,
                prev_hash=head_hash,
                hash=chain_hash(head_hash, body),
                body=body,
            )
            position, head_hash = entry.position, entry.hash
            entries.append(entry)
            row = (
                entry.position,
                event.id,
                event.source,
                event.type,
                event.subject,
                event.time,
                entry.body,
                entry.prev_hash,
                entry.hash,
            )
            for column, value in zip(columns, row, strict=True):
                column.append(value)
        await (await driver(self._session)).execute(_APPEND_SQL, *columns)
        return entries

    async def head(self) -> tuple[int, bytes]:
        row = await (await driver(self._session)).fetchrow(_HEAD_SQL)
        return (row["position"], row["hash"]) if row else (0, GENESIS)

    async def entries(
        self,
        from_position: int = 1,
        *,
        until_position: int | None = None,
        page: int = PAGE,
        share: tuple[int, int] | None = None,
    ) -> AsyncGenerator[list[Entry], None]:
        """The archive in position order, a page at a time (keyset paging: constant memory);
        with `share` (k, n), only the entries of the k-th of n shares of the requests."""
        connection = await driver(self._session)
        position, last = from_position - 1, until_position or 2**63 - 1
        sql, parameters = (_PAGE_SQL, [page]) if share is None else (_SHARE_SQL, [*share, page])
        while rows := await connection.fetch(sql, position, last, *parameters):
            yield [Entry(*row) for row in rows]
            position = rows[-1][0]

    async def consume(
        self,
        work: Callable[[Iterator[Entry]], _T],
        from_position: int = 1,
        *,
        until_position: int | None = None,
    ) -> _T:
        """`work(entries)` run in a worker thread over the archive in position order, while
        the next page is fetched; `work` may stop early."""
        pages = self.entries(from_position, until_position=until_position)
        return await consume_in_thread(pages, work)

    def dsn(self) -> str:
        """Where the archive is, for the driver in another process."""
        engine = self._session.bind
        assert isinstance(engine, AsyncEngine), "the session is bound to an engine"
        return asyncpg_dsn(engine.url.render_as_string(hide_password=False))

    async def of_request(self, request_id: str) -> list[dict[str, Any]]:
        rows = await self._session.execute(
            sa.select(archive).where(archive.c.subject == request_id).order_by(archive.c.position)
        )
        return [dict(row._mapping) for row in rows]

    async def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        await self._session.execute(
            sa.insert(checkpoints).values(
                position=checkpoint.position,
                head_hash=checkpoint.head_hash,
                signed_at=checkpoint.signed_at,
                key_id=checkpoint.key_id,
                signature=checkpoint.signature,
            )
        )

    async def checkpoints(self) -> list[Checkpoint]:
        rows = await self._session.execute(sa.select(checkpoints).order_by(checkpoints.c.id))
        return [
            Checkpoint(
                position=r.position,
                head_hash=r.head_hash,
                signed_at=r.signed_at,
                key_id=r.key_id,
                signature=r.signature,
            )
            for r in rows
        ]
