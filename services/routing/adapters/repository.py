"""Placements stored as event streams, and the assignment index."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.adapters.tables import assignment_index, events, outbox
from services.routing.domain.errors import RoutingNotFoundError
from services.routing.domain.routed_request import RoutedRequest
from shared.db import driver, quoted
from shared.events.catalogue import (
    ASSIGNMENT_DECLINED,
    EXECUTED,
    ROUTED,
    ROUTING_FAILED,
    RequestRouted,
    read_payload,
)
from shared.events.envelope import CloudEvent
from shared.eventstore import EventStore, StreamAppend, requeue_history

_INDEX = (
    f"INSERT INTO {quoted(assignment_index)} (assignment_id, request_id, office_id) "
    "SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::varchar[]) ON CONFLICT DO NOTHING"
)

# The event types routing owns: only these leave through the outbox.
OWNED = frozenset({ROUTED, ROUTING_FAILED, ASSIGNMENT_DECLINED, EXECUTED})


class RoutingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._store = EventStore(events, outbox)

    async def find(self, request_id: str) -> RoutedRequest | None:
        stored = await self._store.load(self._session, request_id)
        if not stored:
            return None
        return RoutedRequest.rehydrate(request_id, [read_payload(item.event) for item in stored])

    async def find_all(self, request_ids: Iterable[str]) -> dict[str, RoutedRequest]:
        """The placements of those requests that routing has (one statement for them all)."""
        stored = await self._store.load_many(self._session, request_ids)
        return {
            request_id: RoutedRequest.rehydrate(
                request_id, [read_payload(item.event) for item in items]
            )
            for request_id, items in stored.items()
        }

    async def get(self, request_id: str) -> RoutedRequest:
        placement = await self.find(request_id)
        if placement is None:
            raise RoutingNotFoundError(f"routing has no request with id {request_id}")
        return placement

    async def get_by_assignment(self, assignment_id: str) -> RoutedRequest:
        request_id = await self._session.scalar(
            sa.select(assignment_index.c.request_id).where(
                assignment_index.c.assignment_id == assignment_id
            )
        )
        if request_id is None:
            raise RoutingNotFoundError(f"no assignment with id {assignment_id}")
        return await self.get(request_id)

    async def save(
        self, placement: RoutedRequest, new_events: list[CloudEvent], expected_version: int
    ) -> None:
        """Append the new events (raises `ConcurrencyError` on a concurrent write)."""
        await self._store.append(
            self._session, placement.request_id, expected_version, new_events, publish=_owned
        )
        await self._index(new_events)

    async def save_all(self, changes: Sequence[StreamAppend]) -> None:
        """`save` for many placements at once: one statement for their events, one for the
        assignments they route (raises `ConcurrencyError` as `save` does, for them all)."""
        await self._store.append_many(self._session, changes, publish=_owned)
        await self._index([event for change in changes for event in change.events])

    async def _index(self, new_events: Iterable[CloudEvent]) -> None:
        assignments = [
            (a.assignment_id, routed.request_id, a.office_id)
            for event in new_events
            if event.type == ROUTED
            for routed in [read_payload(event)]
            if isinstance(routed, RequestRouted)
            for a in routed.assignments
        ]
        if assignments:
            # One statement for every assignment (an insert each was a round trip each).
            ids, requests, offices = (list(column) for column in zip(*assignments, strict=True))
            await (await driver(self._session)).execute(_INDEX, ids, requests, offices)


def _owned(event: CloudEvent) -> bool:
    return event.type in OWNED


async def requeue_owned_history(session: AsyncSession) -> int:
    """Every event this service owns, back on the outbox (a broker that lost its log)."""
    return await requeue_history(session, events, outbox, OWNED)
