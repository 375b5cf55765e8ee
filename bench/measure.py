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

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.tracking import audit, handlers
from services.tracking.adapters.read_model import RequestFilter
from services.tracking.stats_snapshot import StatsSnapshot
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
    uow: Callable[[], UnitOfWork], *, apply: bool = False, until_position: int | None = None
) -> tuple[float, dict[str, Any]]:
    """Seconds a replay took, and what it answered."""
    started = time.perf_counter()
    outcome = await audit.replay(uow(), apply=apply, until_position=until_position)
    return time.perf_counter() - started, outcome


async def verify(uow: Callable[[], UnitOfWork], key: Ed25519PrivateKey) -> tuple[float, Any]:
    """Seconds a verification of the whole archive and its checkpoints took, and its result."""
    await audit.sign_head(uow(), key)
    started = time.perf_counter()
    result = await audit.verify_archive(uow(), key)
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
    """`GET /v1/stats` as the service answers it (`StatsSnapshot`, warmed at start), and
    the computation behind it, which the service runs in the background."""
    snapshot = StatsSnapshot(lambda: handlers.get_stats(uow()))
    await snapshot.keep_warm()

    async def served() -> int:
        return int((await snapshot.current())["total"])

    async def computed() -> int:
        return int((await handlers.get_stats(uow()))["total"])

    return [
        await _timed("GET /v1/stats", served, runs),
        await _timed("stats computation (background, ≤ 1 a minute)", computed, 5),
    ]


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
