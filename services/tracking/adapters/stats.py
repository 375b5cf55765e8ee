"""`GET /v1/stats` from the running tallies (tracking migration 0002): two small reads,
whatever the size of the read model, and exact counts as of the last committed event."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.tracking.adapters.tables import request_tallies, stage_durations
from services.tracking.domain.durations import percentile

STAGES = ("received_to_routed", "routed_to_executed", "executed_to_closed", "received_to_closed")
# A request that has no country or category yet (an event came before its receipt).
UNKNOWN = "unknown"


async def statistics(session: AsyncSession) -> dict[str, Any]:
    """Counts per status, office, country and category; stage durations; weekly intake."""
    tallies: dict[str, dict[str, int]] = defaultdict(dict)
    rows = await session.execute(
        sa.select(request_tallies).where(request_tallies.c.count != 0).order_by("dimension", "key")
    )
    for dimension, key, count in rows:
        tallies[dimension][key] = count
    histograms: dict[str, list[tuple[int, int]]] = defaultdict(list)
    rows = await session.execute(
        sa.select(stage_durations).where(stage_durations.c.count != 0).order_by("stage", "bucket")
    )
    for stage, bucket, count in rows:
        histograms[stage].append((bucket, count))
    return {
        "total": tallies["total"].get("", 0),
        "by_status": tallies["status"],
        "by_country": _known(tallies["country"]),
        "by_category": _known(tallies["category"]),
        "by_office": tallies["office"],
        "stage_hours": {stage: _hours(histograms[stage]) for stage in STAGES},
        "intake_per_week": [
            {"week": week, "received": count} for week, count in tallies["week"].items()
        ],
    }


def _known(counts: dict[str, int]) -> dict[str, int]:
    return {key or UNKNOWN: count for key, count in counts.items()}


def _hours(histogram: list[tuple[int, int]]) -> dict[str, float | int | None]:
    def hours(fraction: float) -> float | None:
        seconds = percentile(histogram, fraction)
        return round(seconds / 3600, 3) if seconds is not None else None

    return {"count": sum(c for _, c in histogram), "median": hours(0.5), "p90": hours(0.9)}
