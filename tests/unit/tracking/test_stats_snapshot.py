"""GET /v1/stats stays fast at any size: exact while computing is quick, else the latest
computation, never older than allowed, refreshed without making a request wait."""

from __future__ import annotations

import asyncio
from typing import Any

from services.tracking.stats_snapshot import StatsSnapshot


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Statistics:
    """Computations that take `seconds` of the clock each; counts how many ran."""

    def __init__(self, clock: Clock, seconds: float) -> None:
        self.clock, self.seconds, self.runs = clock, seconds, 0

    async def __call__(self) -> dict[str, Any]:
        self.runs += 1
        self.clock.now += self.seconds
        await asyncio.sleep(0)
        return {"total": self.runs}


async def test_quick_statistics_are_computed_for_every_request() -> None:
    clock = Clock()
    compute = Statistics(clock, seconds=0.01)
    snapshot = StatsSnapshot(compute, max_age=60, clock=clock)

    assert [await snapshot.current() for _ in range(3)] == [{"total": n} for n in (1, 2, 3)]


async def test_slow_statistics_are_served_from_the_latest_until_it_is_too_old() -> None:
    clock = Clock()
    compute = Statistics(clock, seconds=6.0)
    snapshot = StatsSnapshot(compute, max_age=60, exact_below=0, clock=clock)
    await snapshot.keep_warm()

    clock.now += 30
    assert await snapshot.current() == {"total": 1}
    assert compute.runs == 1

    clock.now += 60  # too old: answered at once, refreshed behind the answer
    assert await snapshot.current() == {"total": 1}
    await asyncio.sleep(0.01)
    assert compute.runs == 2
    assert await snapshot.current() == {"total": 2}


async def test_keeping_warm_computes_only_what_is_missing_or_stale() -> None:
    clock = Clock()
    compute = Statistics(clock, seconds=6.0)
    snapshot = StatsSnapshot(compute, max_age=60, exact_below=0, clock=clock)

    await snapshot.keep_warm()
    await snapshot.keep_warm()
    assert compute.runs == 1
    clock.now += 61
    await snapshot.keep_warm()
    assert compute.runs == 2


async def test_requests_arriving_together_share_one_computation() -> None:
    clock = Clock()
    compute = Statistics(clock, seconds=0.01)
    snapshot = StatsSnapshot(compute, max_age=60, exact_below=0, clock=clock)

    answers = await asyncio.gather(*(snapshot.refresh() for _ in range(5)))

    assert compute.runs == 1 and answers == [{"total": 1}] * 5


async def test_a_small_read_model_gets_exact_statistics_however_slow_the_machine() -> None:
    clock = Clock()
    compute = Statistics(clock, seconds=6.0)
    snapshot = StatsSnapshot(compute, max_age=60, clock=clock)

    assert [await snapshot.current() for _ in range(3)] == [{"total": n} for n in (1, 2, 3)]
