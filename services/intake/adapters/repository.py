"""Requests stored as event streams in intake's database."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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
from shared.eventstore import EventStore, StreamAppend, requeue_history

# What an erased request's idempotency print becomes: no SHA-256 hex digest equals it.
ERASED_FINGERPRINT = "erased"

# For each Idempotency-Key given ($1, in order; null for a submission without one), the
# next number, unless the key was used before (null then, no number taken). The numbers are
# taken in the order given.
_NUMBERS = (
    "SELECT CASE WHEN key IS NOT NULL AND EXISTS "
    f"(SELECT FROM {quoted(idempotency_keys)} AS used WHERE used.key = given.key) "
    f"THEN NULL ELSE nextval('{domestic_reference_seq.name}') END "
    "FROM unnest($1::varchar[]) WITH ORDINALITY AS given(key, n) ORDER BY n"
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
        request = (await self.get_many([request_id])).get(request_id)
        if request is None:
            raise RequestNotFoundError(request_id)
        return request

    async def get_many(self, request_ids: Iterable[str]) -> dict[str, AssistanceRequest]:
        """The requests stored under any of the ids, by id, in one statement (a consumer's
        batch); an id with nothing stored is left out."""
        return {
            request_id: AssistanceRequest.rehydrate(
                request_id, [read_payload(item.event) for item in stored]
            )
            for request_id, stored in (await _STORE.load_many(self._session, request_ids)).items()
        }

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

    async def save_all(self, changes: Sequence[StreamAppend]) -> None:
        """`save` for many requests at once, in one statement (`ConcurrencyError` as `save`
        raises it, for them all)."""
        await _STORE.append_many(self._session, changes, publish=_owned)

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


@dataclass(frozen=True)
class Received:
    """A new request to store: its events and, given an Idempotency-Key, the key and the
    print of the body to claim for it."""

    request: AssistanceRequest
    events: list[CloudEvent]
    claiming: tuple[str, str] | None


class Submissions:
    """New requests stored in two statements, each a transaction of its own, on a
    connection outside any transaction (`shared.db.autocommit_driver`): their numbers, then
    their events with their Idempotency-Keys claimed; any number of requests at once.
    Nothing between the two needs to be atomic: a number taken for a request that is then
    not stored is a gap, as a rolled-back transaction leaves one."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def numbers(self, keys: Sequence[str | None]) -> list[int | None]:
        """The next numbers, one for each submission in order; None, no number taken, for
        one whose Idempotency-Key (in `keys`, None for a submission without one) was used
        before."""
        rows = await self._connection.fetch(_NUMBERS, list(keys))
        return [row[0] for row in rows]

    async def store(self, received: Sequence[Received]) -> set[str]:
        """The new requests' events, appended and published, each with its Idempotency-Key
        claimed in the same statement; the ids of those stored (not those whose key another
        submission claimed first)."""
        return await _STORE.append_alone(
            self._connection,
            [
                StreamAppend(
                    each.request.id,
                    0,
                    each.events,
                    claim=None
                    if each.claiming is None
                    else {
                        "key": each.claiming[0],
                        "fingerprint": each.claiming[1],
                        "request_id": each.request.id,
                    },
                )
                for each in received
            ],
            claims=idempotency_keys,
            publish=_owned,
        )


async def requeue_owned_history(session: AsyncSession) -> int:
    """Every event this service owns, back on the outbox (a broker that lost its log)."""
    return await requeue_history(session, events, outbox, OWNED)
