"""Deadlines of every request, and the alerts already emitted for them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.tracking.adapters.tables import deadline_alerts, deadlines, requests
from services.tracking.domain.deadline_plan import PlannedDeadline
from shared.db import driver

_REMOVE = "DELETE FROM deadlines WHERE request_id = ANY($1::varchar[])"
_INSERT = (
    "INSERT INTO deadlines (deadline_id, request_id, kind, due, due_soon_at, basis, rule_id, "
    "confirmed, met) SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], "
    "$4::timestamptz[], $5::timestamptz[], $6::text[], $7::varchar[], $8::boolean[], "
    "$9::boolean[])"
)


class DeadlineStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def replace_all(self, planned: Mapping[str, Sequence[PlannedDeadline]]) -> None:
        """The deadlines of each request as planned now: one statement to remove those of
        every request, one to insert them all (on the driver's connection: the projector
        runs them for every batch)."""
        connection = await driver(self._session)
        await connection.execute(_REMOVE, list(planned))
        every = [d for each in planned.values() for d in each]
        if every:
            await connection.execute(
                _INSERT,
                [d.id for d in every],
                [d.request_id for d in every],
                [d.kind for d in every],
                [d.due for d in every],
                [d.due_soon_at for d in every],
                [d.basis for d in every],
                [d.rule_id for d in every],
                [d.confirmed for d in every],
                [d.satisfied for d in every],
            )

    async def of_request(self, request_id: str, now: datetime) -> list[dict[str, Any]]:
        rows = await self._session.execute(
            sa.select(deadlines)
            .where(deadlines.c.request_id == request_id)
            .order_by(deadlines.c.due)
        )
        return [_public(dict(row._mapping), now) for row in rows]

    async def listing(
        self, *, state: str | None, office: str | None, now: datetime, limit: int
    ) -> list[dict[str, Any]]:
        d = deadlines.c
        query = sa.select(deadlines, requests.c.domestic_reference, requests.c.offices).join(
            requests, requests.c.request_id == d.request_id
        )
        match state:
            case "met":
                query = query.where(d.met)
            case "overdue":
                query = query.where(~d.met, d.due < now)
            case "due_soon":
                query = query.where(~d.met, d.due_soon_at <= now, d.due >= now)
            case "on_track":
                query = query.where(~d.met, d.due_soon_at > now)
        if office:
            query = query.where(requests.c.offices.contains([office]))
        rows = await self._session.execute(query.order_by(d.due).limit(limit))
        return [_public(dict(row._mapping), now) for row in rows]

    async def needing_alerts(self, now: datetime, limit: int = 500) -> list[dict[str, Any]]:
        """Open deadlines whose next alert is due and not yet emitted: approaching while
        before the due time, breached after it. Deadlines already alerted drop out, so a
        backlog of never-met deadlines cannot starve the others."""
        d = deadlines.c

        def not_emitted(threshold: str) -> sa.ColumnElement[bool]:
            return ~sa.exists().where(
                deadline_alerts.c.deadline_id == d.deadline_id,
                deadline_alerts.c.threshold == threshold,
            )

        rows = await self._session.execute(
            sa.select(deadlines)
            .where(
                ~d.met,
                d.due_soon_at <= now,
                sa.or_(
                    sa.and_(d.due > now, not_emitted("approaching")),
                    sa.and_(d.due <= now, not_emitted("breached")),
                ),
            )
            .order_by(d.due_soon_at)
            .limit(limit)
        )
        return [dict(row._mapping) for row in rows]

    async def claim_alert(self, deadline_id: str, threshold: str, event_id: str) -> bool:
        """Record that this alert is emitted; False when it already was."""
        claimed = await self._session.scalar(
            insert(deadline_alerts)
            .values(deadline_id=deadline_id, threshold=threshold, event_id=event_id)
            .on_conflict_do_nothing()
            .returning(deadline_alerts.c.deadline_id)
        )
        return claimed is not None


def _public(row: dict[str, Any], now: datetime) -> dict[str, Any]:
    row["state"] = state_of(row, now)
    return row


def state_of(row: dict[str, Any], now: datetime) -> str:
    if row["met"]:
        return "met"
    if row["due"] < now:
        return "overdue"
    if row["due_soon_at"] <= now:
        return "due_soon"
    return "on_track"
