"""notify's use cases. For now it takes every event in, once; deliveries build on the inbox."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.notify.adapters.tables import inbox
from shared.db import UnitOfWork
from shared.events.catalogue import Payload
from shared.events.envelope import CloudEvent


async def take_in(session: AsyncSession, event: CloudEvent, payload: Payload) -> None:
    """Consumer handler: keep the event in the inbox (the consumer already deduplicated)."""
    await session.execute(
        sa.insert(inbox).values(
            event_key=event.dedup_key,
            request_id=payload.request_id,
            type=event.type,
            time=event.time,
        )
    )


async def inbox_of(uow: UnitOfWork, request_id: str) -> list[dict[str, object]]:
    async with uow:
        rows = await uow.session.execute(
            sa.select(inbox.c.type, inbox.c.time, inbox.c.received_at)
            .where(inbox.c.request_id == request_id)
            .order_by(inbox.c.time)
        )
        return [dict(row._mapping) for row in rows]
