"""Requests stored as event streams in intake's database."""

from __future__ import annotations

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.adapters.tables import domestic_reference_seq, events, idempotency_keys, outbox
from services.intake.domain.errors import RequestNotFoundError
from services.intake.domain.request import AssistanceRequest
from shared.db import quoted
from shared.events.catalogue import (
    CLOSED,
    PERSONAL_DATA_ERASED,
    RECEIVED,
    WITHDRAWN,
    read_payload,
)
from shared.events.envelope import CloudEvent
from shared.eventstore import Claim, EventStore, requeue_history

# What an erased request's idempotency print becomes: no SHA-256 hex digest equals it.
ERASED_FINGERPRINT = "erased"

_NEXT_NUMBER = f"SELECT nextval('{domestic_reference_seq.name}')"
# A number, unless the Idempotency-Key was used before (no row then, no number taken).
_NUMBER_UNLESS_USED = (
    f"{_NEXT_NUMBER} WHERE NOT EXISTS (SELECT FROM {quoted(idempotency_keys)} WHERE key = $1)"
)

# The event types intake owns: only these leave through the outbox.
OWNED = frozenset({RECEIVED, WITHDRAWN, CLOSED, PERSONAL_DATA_ERASED})

_STORE = EventStore(events, outbox)


def _owned(event: CloudEvent) -> bool:
    return event.type in OWNED


class RequestRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, request_id: str) -> AssistanceRequest:
        stored = await _STORE.load(self._session, request_id)
        if not stored:
            raise RequestNotFoundError(request_id)
        request = AssistanceRequest.rehydrate(
            request_id, [read_payload(item.event) for item in stored]
        )
        return request

    async def save(
        self, request: AssistanceRequest, new_events: list[CloudEvent], expected_version: int
    ) -> None:
        """Append the request's new events; raises `ConcurrencyError` on a concurrent write."""
        await _STORE.append(
            self._session,
            request.id,
            expected_version,
            new_events,
            publish=_owned,
        )

    async def forget_fingerprint(self, request_id: str) -> None:
        """Blank the print of an erased request's body: a hash of its personal data would let
        whoever holds a guess of that data confirm it. A retry with the same key is refused
        from now on (the body can no longer be compared)."""
        await self._session.execute(
            sa.update(idempotency_keys)
            .where(idempotency_keys.c.request_id == request_id)
            .values(fingerprint=ERASED_FINGERPRINT)
        )

    async def idempotency_record(self, key: str) -> tuple[str, str] | None:
        """(fingerprint, request id) of an earlier use of the key."""
        row = (
            await self._session.execute(
                sa.select(idempotency_keys.c.fingerprint, idempotency_keys.c.request_id).where(
                    idempotency_keys.c.key == key
                )
            )
        ).first()
        return (row.fingerprint, row.request_id) if row else None


class Submissions:
    """A new request stored in two statements, each a transaction of its own, on a
    connection outside any transaction (`shared.db.autocommit_driver`): its number, then its
    events with its Idempotency-Key claimed. Nothing between the two needs to be atomic: a
    number taken for a request that is then not stored is a gap, as a rolled-back
    transaction leaves one."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def next_domestic_reference(
        self, prefix: str, year: int, idempotency_key: str | None
    ) -> str | None:
        """The next domestic reference; None, no number taken, when `idempotency_key` was
        used before."""
        if idempotency_key is None:
            number = await self._connection.fetchval(_NEXT_NUMBER)
        else:
            number = await self._connection.fetchval(_NUMBER_UNLESS_USED, idempotency_key)
            if number is None:
                return None
        return f"{prefix}-{year}-{number:06d}"

    async def store(
        self,
        request: AssistanceRequest,
        new_events: list[CloudEvent],
        claiming: tuple[str, str] | None,
    ) -> bool:
        """The new request's events, appended and published; with `claiming` (an
        Idempotency-Key and the print of the body) the key recorded for it in the same
        statement. False, nothing stored, when another submission claimed the key first."""
        claim = None
        if claiming is not None:
            key, fingerprint = claiming
            claim = Claim(
                idempotency_keys,
                {"key": key, "fingerprint": fingerprint, "request_id": request.id},
            )
        return await _STORE.append_alone(
            self._connection,
            request.id,
            0,
            new_events,
            claim=claim,
            publish=_owned,
        )


async def requeue_owned_history(session: AsyncSession) -> int:
    """Every event this service owns, back on the outbox (a broker that lost its log)."""
    return await requeue_history(session, events, outbox, OWNED)
