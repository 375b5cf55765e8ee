"""Aggregates over the read model for `GET /v1/stats`: one SQL statement each."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.tracking.adapters.tables import requests

# Each stage: from which timestamp to which.
STAGES = {
    "received_to_routed": ("received_at", "routed_at"),
    "routed_to_executed": ("routed_at", "executed_at"),
    "executed_to_closed": ("executed_at", "closed_at"),
    "received_to_closed": ("received_at", "closed_at"),
}


async def statistics(session: AsyncSession) -> dict[str, Any]:
    """Counts per status, office, country and category; stage durations; weekly intake."""
    c = requests.c
    result: dict[str, Any] = {
        "total": await session.scalar(sa.select(sa.func.count()).select_from(requests))
    }
    for name, column in (
        ("by_status", c.status),
        ("by_country", c.country),
        ("by_category", c.offence_category),
    ):
        rows = await session.execute(
            sa.select(column, sa.func.count()).group_by(column).order_by(column)
        )
        result[name] = {str(key): count for key, count in rows}
    office = sa.func.unnest(c.offices).label("office")
    per_office = sa.select(office).subquery()
    rows = await session.execute(
        sa.select(per_office.c.office, sa.func.count())
        .group_by(per_office.c.office)
        .order_by(per_office.c.office)
    )
    result["by_office"] = {key: count for key, count in rows}
    result["stage_hours"] = {
        name: await _durations(session, start, end) for name, (start, end) in STAGES.items()
    }
    week = sa.func.date_trunc("week", c.received_at).label("week")
    rows = await session.execute(
        sa.select(week, sa.func.count())
        .where(c.received_at.is_not(None))
        .group_by(week)
        .order_by(week)
    )
    result["intake_per_week"] = [{"week": w.date().isoformat(), "received": n} for w, n in rows]
    return result


async def _durations(session: AsyncSession, start: str, end: str) -> dict[str, float | int | None]:
    hours = sa.func.extract("epoch", requests.c[end] - requests.c[start]) / 3600.0
    row = (
        await session.execute(
            sa.select(
                sa.func.count(),
                sa.func.percentile_cont(0.5).within_group(hours),
                sa.func.percentile_cont(0.9).within_group(hours),
            ).where(requests.c[start].is_not(None), requests.c[end].is_not(None))
        )
    ).one()
    count, median, p90 = row
    return {
        "count": count,
        "median": round(median, 3) if median is not None else None,
        "p90": round(p90, 3) if p90 is not None else None,
    }
