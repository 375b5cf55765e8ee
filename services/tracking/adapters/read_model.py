"""Reading and writing the request read model and the timeline."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.tracking.adapters.tables import requests, timeline
from services.tracking.domain.view import RequestView, from_document, to_document
from shared.events.envelope import CloudEvent


class ReadModel:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def view(self, request_id: str, *, for_update: bool = False) -> RequestView | None:
        query = sa.select(requests.c.view).where(requests.c.request_id == request_id)
        if for_update:
            query = query.with_for_update()
        document = await self._session.scalar(query)
        return from_document(document) if document is not None else None

    async def save(self, view: RequestView) -> None:
        values: dict[str, Any] = {
            "request_id": view.request_id,
            "domestic_reference": view.domestic_reference,
            "status": view.status,
            "country": view.country,
            "channel": view.channel,
            "offence_category": view.offence_category,
            "urgency": view.urgency,
            "offices": list(view.offices),
            "received_at": view.received_at,
            "updated_at": view.updated_at,
            "view": to_document(view),
        }
        statement = insert(requests).values(values)
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=[requests.c.request_id],
                set_={k: statement.excluded[k] for k in values if k != "request_id"},
            )
        )

    async def append_timeline(self, event: CloudEvent) -> None:
        await self._session.execute(
            sa.insert(timeline).values(
                request_id=event.subject,
                event_id=event.id,
                source=event.source,
                type=event.type,
                time=event.time,
                envelope=event.model_dump(mode="json", exclude_none=True),
            )
        )

    async def timeline(self, request_id: str) -> list[dict[str, Any]]:
        rows = await self._session.execute(
            sa.select(timeline)
            .where(timeline.c.request_id == request_id)
            .order_by(timeline.c.position)
        )
        return [
            {
                "position": row.position,
                "event_id": row.event_id,
                "type": row.type,
                "source": row.source,
                "time": row.time,
                "recorded_at": row.recorded_at,
                "correlation_id": row.envelope.get("correlationid"),
                "causation_id": row.envelope.get("causationid"),
                "data": row.envelope.get("data"),
            }
            for row in rows
        ]

    async def list(self, *, status: str | None, limit: int) -> list[RequestView]:
        query = sa.select(requests.c.view).order_by(requests.c.received_at.desc()).limit(limit)
        if status:
            query = query.where(requests.c.status == status)
        return [from_document(doc) for doc in await self._session.scalars(query)]
