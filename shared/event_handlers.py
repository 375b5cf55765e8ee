"""What a consumer runs for the events it takes, and where it records what it has handled.

A consumer (shared/consumer.py) gives its handler the new events of a batch together, in
partition order, inside the transaction that records them as processed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events.catalogue import Payload
from shared.events.envelope import CloudEvent

Handler = Callable[[AsyncSession, CloudEvent, Payload], Awaitable[None]]
# What a consumer runs: the new events of a batch, in partition order, in one transaction.
# Each service takes them all at once: one statement per table for the batch instead of
# one per event (intake and routing load the batch's streams together and append to them
# together). `one_by_one` makes one of a handler of single events.
BatchHandler = Callable[[AsyncSession, Sequence[tuple[CloudEvent, Payload]]], Awaitable[None]]
# Which kinds of event (their payload models) a service acts on at all. Every service reads
# every event of the topic; one it has nothing to do with (routing's own `routed`, intake's
# own `received`) is passed over unread and without a transaction: recording it as processed
# would guard an effect that never happens, at the price of a commit per event per service.
Interest = Callable[[type[Payload]], bool]


def everything(kind: type[Payload]) -> bool:
    """The interest of a service that acts on every event (tracking archives them all)."""
    return True


def one_by_one(handler: Handler) -> BatchHandler:
    """A batch handler that runs `handler` for each event in turn, each logged with its
    event, causation and correlation ids."""

    async def handle(session: AsyncSession, events: Sequence[tuple[CloudEvent, Payload]]) -> None:
        for event, payload in events:
            # Restores what was bound before: the one-at-a-time path binds the same ids
            # around its retries, and its failure log needs them still.
            with structlog.contextvars.bound_contextvars(
                event_id=event.id,
                causation_id=event.causationid,
                correlation_id=event.correlationid,
            ):
                await handler(session, event, payload)

    return handle


def processed_events_table(metadata: sa.MetaData) -> sa.Table:
    """Declare `processed_events`: the dedup keys of every event a service has handled."""
    return sa.Table(
        "processed_events",
        metadata,
        sa.Column("event_key", sa.String(200), primary_key=True),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )
