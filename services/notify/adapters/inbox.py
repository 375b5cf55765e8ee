"""notify's inbox: every event it took in, as it came (what a delivery is made from)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import driver
from shared.events.catalogue import Payload
from shared.events.envelope import CloudEvent

# One statement for a batch, on the driver's connection (shared.db.driver): it runs for
# every batch of events notify takes in.
_KEEP = (
    "INSERT INTO inbox (event_key, request_id, type, time, envelope) SELECT * FROM unnest("
    "$1::varchar[], $2::varchar[], $3::varchar[], $4::timestamptz[], $5::bytea[])"
)


async def keep_in_inbox(
    session: AsyncSession, events: Sequence[tuple[CloudEvent, Payload]]
) -> None:
    """Keep the events, in the caller's transaction (a key kept twice is an error: the
    consumer takes in an event once)."""
    await (await driver(session)).execute(
        _KEEP,
        [event.dedup_key for event, _ in events],
        [payload.request_id for _, payload in events],
        [event.type for event, _ in events],
        [event.time for event, _ in events],
        [event.to_bytes() for event, _ in events],
    )
