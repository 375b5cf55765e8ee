"""The archive in PostgreSQL: appended in the consumer's transaction, one writer at a time.

Appends are serialised by a transaction-scoped advisory lock, so that two tracking
instances never both chain onto the same head; the lock is held only until the consuming
transaction commits.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.tracking.adapters.tables import archive, checkpoints
from services.tracking.domain.archive import (
    GENESIS,
    Checkpoint,
    Entry,
    canonical_bytes,
    chain_hash,
)
from shared.events.envelope import CloudEvent

ARCHIVE_LOCK = zlib.crc32(b"tracking:archive")


class ArchiveStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def append(self, event: CloudEvent) -> Entry:
        """Chain the event onto the head of the archive."""
        await self._session.execute(sa.select(sa.func.pg_advisory_xact_lock(ARCHIVE_LOCK)))
        head = (
            await self._session.execute(
                sa.select(archive.c.position, archive.c.hash)
                .order_by(archive.c.position.desc())
                .limit(1)
            )
        ).first()
        position, prev = (head.position + 1, head.hash) if head else (1, GENESIS)
        body = canonical_bytes(event.model_dump(mode="json", exclude_none=True))
        entry = Entry(position=position, prev_hash=prev, hash=chain_hash(prev, body), body=body)
        await self._session.execute(
            sa.insert(archive).values(
                position=entry.position,
                event_id=event.id,
                source=event.source,
                type=event.type,
                subject=event.subject,
                time=event.time,
                body=entry.body,
                prev_hash=entry.prev_hash,
                hash=entry.hash,
            )
        )
        return entry

    async def head(self) -> tuple[int, bytes]:
        row = (
            await self._session.execute(
                sa.select(archive.c.position, archive.c.hash)
                .order_by(archive.c.position.desc())
                .limit(1)
            )
        ).first()
        return (row.position, row.hash) if row else (0, GENESIS)

    async def entries(
        self, from_position: int = 1, *, until_position: int | None = None, batch: int = 5000
    ) -> AsyncIterator[list[Entry]]:
        """The archive in position order, in batches (keyset paging: constant memory)."""
        position = from_position - 1
        while True:
            query = (
                sa.select(archive.c.position, archive.c.prev_hash, archive.c.hash, archive.c.body)
                .where(archive.c.position > position)
                .order_by(archive.c.position)
                .limit(batch)
            )
            if until_position is not None:
                query = query.where(archive.c.position <= until_position)
            rows = (await self._session.execute(query)).all()
            if not rows:
                return
            yield [Entry(r.position, r.prev_hash, r.hash, r.body) for r in rows]
            position = rows[-1].position

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
