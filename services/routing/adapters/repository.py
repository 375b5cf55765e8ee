"""Placements stored as event streams, and the assignment index."""

from __future__ import annotations

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
from shared.eventstore import EventStore, requeue_history

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
            self._session,
            placement.request_id,
            expected_version,
            new_events,
            publish=lambda event: event.type in OWNED,
        )
        for event in new_events:
            if event.type == ROUTED:
                await self._index(read_payload(event))

    async def _index(self, routed: object) -> None:
        assert isinstance(routed, RequestRouted)
        if routed.assignments:
            # One statement for every assignment (an insert each was a round trip each).
            await (await driver(self._session)).execute(
                _INDEX,
                [a.assignment_id for a in routed.assignments],
                [routed.request_id] * len(routed.assignments),
                [a.office_id for a in routed.assignments],
            )


async def requeue_owned_history(session: AsyncSession) -> int:
    """Every event this service owns, back on the outbox (a broker that lost its log)."""
    return await requeue_history(session, events, outbox, OWNED)
