"""Requests stored as event streams in intake's database."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.adapters.tables import domestic_reference_seq, events, idempotency_keys, outbox
from services.intake.domain.errors import RequestNotFoundError
from services.intake.domain.request import AssistanceRequest
from shared.db import driver, quoted
from shared.events.catalogue import (
    CLOSED,
    PERSONAL_DATA_ERASED,
    RECEIVED,
    WITHDRAWN,
    read_payload,
)
from shared.events.envelope import CloudEvent
from shared.eventstore import EventStore, requeue_history

# What an erased request's idempotency print becomes: no SHA-256 hex digest equals it.
ERASED_FINGERPRINT = "erased"

_NEXT_NUMBER = f"SELECT nextval('{domestic_reference_seq.name}')"
# The key claimed and, only when it was not claimed before, a number taken.
_CLAIM_AND_NUMBER = (
    f"WITH claimed AS (INSERT INTO {quoted(idempotency_keys)} (key, fingerprint, request_id) "
    "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING key) "
    f"SELECT nextval('{domestic_reference_seq.name}') FROM claimed"
)

# The event types intake owns: only these leave through the outbox.
OWNED = frozenset({RECEIVED, WITHDRAWN, CLOSED, PERSONAL_DATA_ERASED})


class RequestRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._store = EventStore(events, outbox)

    async def get(self, request_id: str) -> AssistanceRequest:
        stored = await self._store.load(self._session, request_id)
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
        await self._store.append(
            self._session,
            request.id,
            expected_version,
            new_events,
            publish=lambda event: event.type in OWNED,
        )

    async def next_domestic_reference(
        self,
        prefix: str,
        year: int,
        *,
        claiming: tuple[str, str] | None = None,
        request_id: str | None = None,
    ) -> str | None:
        """The next domestic reference. With `claiming` (an Idempotency-Key and the print of
        the body), the key is recorded for `request_id` in the same statement, and None
        comes back, no number taken, when the key was already used: one round trip for
        what a submission asks of the database before it appends."""
        connection = await driver(self._session)  # every submission runs it
        if claiming is None:
            number = await connection.fetchval(_NEXT_NUMBER)
        else:
            key, fingerprint = claiming
            number = await connection.fetchval(_CLAIM_AND_NUMBER, key, fingerprint, request_id)
            if number is None:
                return None
        return f"{prefix}-{year}-{number:06d}"

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


async def requeue_owned_history(session: AsyncSession) -> int:
    """Every event this service owns, back on the outbox (a broker that lost its log)."""
    return await requeue_history(session, events, outbox, OWNED)
