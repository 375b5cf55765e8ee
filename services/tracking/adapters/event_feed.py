"""The archive read as a feed: the entries after a position, each with the state its request
is in now. What the live event stream (services/tracking/event_stream.py) sends.

Only the archive's indexed columns are read (never `body`), so no personal field, sealed or
not, can reach a subscriber: type, request, time, and from the read model the status, the
domestic reference and the next due time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.tracking.adapters.tables import archive, requests

# One page of a catch-up: a subscriber that was away long gets it a page per look.
PAGE = 500


class EventFeed:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def head(self) -> int:
        """The position of the last entry (0 for an empty archive)."""
        found = await self._session.scalar(sa.select(sa.func.max(archive.c.position)))
        return int(found or 0)

    async def after(self, position: int, now: datetime, limit: int = PAGE) -> list[dict[str, Any]]:
        """The entries after `position`, oldest first, with their request's state now."""
        rows = await self._session.execute(
            sa.select(
                archive.c.position,
                archive.c.type,
                archive.c.subject,
                archive.c.time,
                requests.c.status,
                requests.c.domestic_reference,
                requests.c.next_due,
            )
            .select_from(archive.outerjoin(requests, requests.c.request_id == archive.c.subject))
            # Positions run without gaps, so the next `limit` entries lie in this range;
            # said as a range, the plan is an index scan even while the archive is young
            # and unanalysed (with `position > $1` alone, a scan and sort of all of it).
            .where(archive.c.position > position, archive.c.position <= position + limit)
            .order_by(archive.c.position)
            .limit(limit)
        )
        return [
            {
                "position": row.position,
                "type": row.type,
                "request_id": row.subject,
                "time": row.time.isoformat(),
                "status": row.status,
                "domestic_reference": row.domestic_reference,
                "overdue": row.next_due is not None and row.next_due < now,
            }
            for row in rows
        ]
