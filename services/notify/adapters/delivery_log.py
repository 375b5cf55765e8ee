"""The delivery log as operators read it: filtered, newest first, in cursor pages."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.notify.adapters.tables import deliveries
from services.notify.domain.delivery import OPEN
from services.notify.domain.errors import DeliveryNotFoundError


@dataclass(frozen=True)
class DeliveryFilter:
    status: str | None = None
    subscription_id: str | None = None
    request_id: str | None = None


class InvalidCursorError(ValueError):
    """A cursor this service did not hand out."""


class DeliveryLog:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, delivery_id: str) -> dict[str, Any]:
        row = (
            await self._session.execute(_listing().where(deliveries.c.id == delivery_id))
        ).first()
        if row is None:
            raise DeliveryNotFoundError(delivery_id)
        return dict(row._mapping)

    async def page(
        self, where: DeliveryFilter, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Newest first; `cursor` continues after the last item of the previous page."""
        query = _listing()
        for column, value in (
            (deliveries.c.status, where.status),
            (deliveries.c.subscription_id, where.subscription_id),
            (deliveries.c.request_id, where.request_id),
        ):
            if value is not None:
                query = query.where(column == value)
        if cursor is not None:
            created_at, last_id = decode_cursor(cursor)
            query = query.where(
                sa.tuple_(deliveries.c.created_at, deliveries.c.id) < (created_at, last_id)
            )
        query = query.order_by(deliveries.c.created_at.desc(), deliveries.c.id.desc())
        rows = [dict(r._mapping) for r in await self._session.execute(query.limit(limit + 1))]
        if len(rows) <= limit:
            return rows, None
        last = rows[limit - 1]
        return rows[:limit], encode_cursor(last["created_at"], last["id"])


def _listing() -> sa.Select[Any]:
    return sa.select(
        deliveries.c.id,
        deliveries.c.subscription_id,
        deliveries.c.request_id,
        deliveries.c.event_key,
        deliveries.c.event_type,
        deliveries.c.channel,
        deliveries.c.status,
        deliveries.c.attempts,
        sa.case(
            (deliveries.c.status.in_([s.value for s in OPEN]), deliveries.c.next_attempt_at),
            else_=None,
        ).label("next_attempt_at"),
        deliveries.c.last_attempt_at,
        deliveries.c.last_status_code,
        deliveries.c.last_error,
        deliveries.c.delivered_at,
        deliveries.c.created_at,
    )


def encode_cursor(created_at: datetime, last_id: str) -> str:
    raw = f"{created_at.isoformat()}|{last_id}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created_at, last_id = raw.split("|", 1)
        return datetime.fromisoformat(created_at), last_id
    except ValueError as exc:  # binascii.Error and UnicodeDecodeError among them
        raise InvalidCursorError("not a cursor of this listing") from exc
