"""The measurements, each through the code path the service runs: replay and verify as
`POST /v1/audit/replay` and `GET /v1/audit/verify` run them, the list and the statistics as
`GET /v1/requests` and `GET /v1/stats` run them (without the HTTP layer)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.tracking import audit, handlers
from services.tracking.adapters.read_model import RequestFilter
from shared.db import UnitOfWork


@dataclass(frozen=True)
class Latency:
    """Latencies of repeated runs of one query, in milliseconds."""

    name: str
    runs: int
    p50: float
    p99: float
    rows: int


async def replay(
    uow: Callable[[], UnitOfWork],
    *,
    apply: bool = False,
    until_position: int | None = None,
    workers: int = 1,
) -> tuple[float, dict[str, Any]]:
    """Seconds a replay took, and what it answered."""
    started = time.perf_counter()
    outcome = await audit.replay(uow(), apply=apply, until_position=until_position, workers=workers)
    return time.perf_counter() - started, outcome


async def verify(
    uow: Callable[[], UnitOfWork], key: Ed25519PrivateKey, workers: int
) -> tuple[float, Any]:
    """Seconds a verification of the whole archive and its checkpoints took, and its result."""
    await audit.sign_head(uow(), key)
    started = time.perf_counter()
    result = await audit.verify_archive(uow(), key, workers=workers)
    return time.perf_counter() - started, result


def list_filters(now: datetime, office: str) -> dict[str, RequestFilter]:
    """What operators filter by, alone and combined."""
    month = now - timedelta(days=30)
    return {
        "newest first, no filter": RequestFilter(),
        "status open (3 statuses)": RequestFilter(status=("received", "routed", "routing_failed")),
        "status closed": RequestFilter(status=("closed",)),
        "country": RequestFilter(country="DE"),
        "office": RequestFilter(office=office),
        "office + open": RequestFilter(office=office, status=("routed",)),
        "category + urgent": RequestFilter(offence_category="cybercrime", urgency="urgent"),
        "channel + country": RequestFilter(channel="eurojust", country="HR"),
        "overdue": RequestFilter(overdue=True),
        "due soon": RequestFilter(due_soon=True),
        "received in the last 30 days": RequestFilter(received_from=month, received_to=now),
        "text (reference)": RequestFilter(text="kt 12"),
        "text (authority)": RequestFilter(text="staatsanwaltschaft"),
    }


async def list_latencies(
    uow: Callable[[], UnitOfWork], filters: dict[str, RequestFilter], runs: int
) -> list[Latency]:
    """First pages (50 requests, newest first) and, where there is one, the next page."""
    latencies = []
    for name, where in filters.items():

        async def first_page(where: RequestFilter = where) -> int:
            views, _ = await handlers.list_views(
                uow(), where, descending=True, cursor=None, limit=50
            )
            return len(views)

        latencies.append(await _timed(name, first_page, runs))
        _, cursor = await handlers.list_views(uow(), where, descending=True, cursor=None, limit=50)
        if cursor is not None and name in ("newest first, no filter", "office", "overdue"):

            async def next_page(where: RequestFilter = where, cursor: str = cursor) -> int:
                views, _ = await handlers.list_views(
                    uow(), where, descending=True, cursor=cursor, limit=50
                )
                return len(views)

            latencies.append(await _timed(f"{name}, next page", next_page, runs))
    return latencies


async def stats_latencies(uow: Callable[[], UnitOfWork], runs: int) -> list[Latency]:
    """`GET /v1/stats` as the service answers it: from the running tallies."""

    async def served() -> int:
        return int((await handlers.get_stats(uow()))["total"])

    return [await _timed("GET /v1/stats (running tallies)", served, runs)]


async def stats_checked(uow: Callable[[], UnitOfWork]) -> tuple[float, dict[str, Any]]:
    """The statistics aggregated from every request, the way the tallies replace (seconds
    it took), and how far the tallies' answer is from it: counts must be equal, stage
    hours within 0.5 % (or 30 s)."""
    async with uow() as unit:
        started = time.perf_counter()
        exact = await exact_statistics(unit.session)
        seconds = time.perf_counter() - started
    served = await handlers.get_stats(uow())
    counts = ("total", "by_status", "by_country", "by_category", "by_office")
    worst = 0.0
    for stage, figures in exact["stage_hours"].items():
        for key in ("median", "p90"):
            truth, answer = figures[key], served["stage_hours"][stage][key]
            if truth is None or answer is None:
                worst = worst if truth == answer else float("inf")
            elif truth * 3600 >= 60:
                worst = max(worst, abs(answer - truth) / truth)
    return seconds, {
        "counts_equal": all(served[k] == exact[k] for k in counts)
        and served["intake_per_week"] == exact["intake_per_week"],
        "worst_relative_error_of_stage_hours": round(worst, 5),
    }


async def exact_statistics(session: Any) -> dict[str, Any]:
    """Every figure of `GET /v1/stats`, aggregated over the whole read model."""

    async def grouped(sql: str) -> dict[str, int]:
        return {k or "unknown": n for k, n in (await session.execute(sa.text(sql))).all()}

    result: dict[str, Any] = {
        "total": (await session.execute(sa.text("SELECT count(*) FROM requests"))).scalar(),
        "by_status": await grouped("SELECT status, count(*) FROM requests GROUP BY 1"),
        "by_country": await grouped("SELECT country, count(*) FROM requests GROUP BY 1"),
        "by_category": await grouped("SELECT offence_category, count(*) FROM requests GROUP BY 1"),
        "by_office": await grouped(
            "SELECT o, count(*) FROM requests, unnest(offices) o GROUP BY 1"
        ),
        "stage_hours": {},
    }
    for stage, (start, end) in STAGES.items():
        row = (
            await session.execute(
                sa.text(
                    f"SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY h), "
                    f"percentile_cont(0.9) WITHIN GROUP (ORDER BY h) FROM ("
                    f"SELECT extract(epoch FROM {end} - {start}) / 3600.0 AS h FROM requests "
                    f"WHERE {start} IS NOT NULL AND {end} IS NOT NULL) s"
                )
            )
        ).one()
        result["stage_hours"][stage] = {"median": row[0], "p90": row[1]}
    weeks = await session.execute(
        sa.text(
            "SELECT to_char(date_trunc('week', received_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD'), "
            "count(*) FROM requests WHERE received_at IS NOT NULL GROUP BY 1 ORDER BY 1"
        )
    )
    result["intake_per_week"] = [{"week": w, "received": n} for w, n in weeks]
    return result


STAGES = {
    "received_to_routed": ("received_at", "routed_at"),
    "routed_to_executed": ("routed_at", "executed_at"),
    "executed_to_closed": ("executed_at", "closed_at"),
    "received_to_closed": ("received_at", "closed_at"),
}


async def _timed(name: str, query: Callable[[], Awaitable[int]], runs: int) -> Latency:
    rows = await query()  # warm the plan and the cache, as a running service has them
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await query()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p99 = samples[min(len(samples) - 1, round(0.99 * (len(samples) - 1)))]
    return Latency(name, runs, statistics.median(samples), p99, rows)


def now() -> datetime:
    return datetime.now(UTC)
