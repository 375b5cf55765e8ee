"""What needs an operator's attention now: requests waiting for routing, due soon, overdue,
the work each executing office holds, and the last signed checkpoint of the archive.

Every count is one query on an index of `requests` (status, next due), never a walk of the
whole read model; "overdue" and "due soon" use the very conditions of the list's filters
(`read_model.conditions`), so a count and the list it opens always agree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.tracking.adapters.read_model import RequestFilter, conditions
from services.tracking.adapters.tables import archive, checkpoints, requests
from services.tracking.domain.archive import Checkpoint

# Statuses in which a request waits for routing: just received, or no rule could place it.
WAITING_FOR_ROUTING = ("received", "routing_failed")
# The offices shown, busiest first, and the overdue requests named, most overdue first.
MAX_OFFICES = 50
MAX_OVERDUE = 100


class Overview:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def count(self, where: RequestFilter, now: datetime) -> int:
        query = sa.select(sa.func.count()).select_from(requests).where(*conditions(where, now))
        return int(await self._session.scalar(query) or 0)

    async def attention(self, now: datetime) -> dict[str, int]:
        """How many requests wait for routing, have failed routing, are due soon, overdue."""
        return {
            "waiting_for_routing": await self.count(RequestFilter(status=WAITING_FOR_ROUTING), now),
            "routing_failed": await self.count(RequestFilter(status=("routing_failed",)), now),
            "due_soon": await self.count(RequestFilter(due_soon=True), now),
            "overdue": await self.count(RequestFilter(overdue=True), now),
        }

    async def overdue(self, now: datetime) -> list[dict[str, Any]]:
        """The overdue requests, most overdue first (at most `MAX_OVERDUE`)."""
        c = requests.c
        rows = await self._session.execute(
            sa.select(c.request_id, c.domestic_reference, c.next_due)
            .where(*conditions(RequestFilter(overdue=True), now))
            .order_by(c.next_due, c.request_id)
            .limit(MAX_OVERDUE)
        )
        return [
            {
                "request_id": r.request_id,
                "domestic_reference": r.domestic_reference,
                "due": r.next_due.isoformat(),
            }
            for r in rows
        ]

    async def workload(self, now: datetime) -> list[dict[str, Any]]:
        """Per executing office: the requests it holds in execution, and how many are late.
        Executed and closed requests are no longer an office's work."""
        office = sa.func.unnest(requests.c.offices).table_valued("office").render_derived()
        in_execution = sa.func.count().label("in_execution")
        rows = await self._session.execute(
            sa.select(
                office.c.office,
                in_execution,
                sa.func.count().filter(requests.c.next_due < now).label("overdue"),
            )
            .select_from(requests)
            .join(office, sa.true())
            .where(requests.c.status == "routed")
            .group_by(office.c.office)
            .order_by(in_execution.desc(), office.c.office)
            .limit(MAX_OFFICES)
        )
        return [dict(row._mapping) for row in rows]

    async def archive_head(self) -> int:
        return int(await self._session.scalar(sa.select(sa.func.max(archive.c.position))) or 0)

    async def last_checkpoint(self) -> tuple[Checkpoint, bytes | None] | None:
        """The latest checkpoint, and the archive's hash at its position now (None when that
        entry is gone): what it takes to tell whether the checkpoint still holds."""
        latest = sa.select(checkpoints).order_by(checkpoints.c.id.desc()).limit(1)
        row = (await self._session.execute(latest)).first()
        if row is None:
            return None
        checkpoint = Checkpoint(
            position=row.position,
            head_hash=row.head_hash,
            signed_at=row.signed_at,
            key_id=row.key_id,
            signature=row.signature,
        )
        current = await self._session.scalar(
            sa.select(archive.c.hash).where(archive.c.position == row.position)
        )
        return checkpoint, current
