"""`GET /v1/stats` at any size of the read model.

The statistics aggregate every request: milliseconds on a small read model, seconds at a
million requests (docs/benchmarks/tracking.md). So they are computed on request while that
is cheap, and exact; once a computation takes longer than `cheap`, answers come from the
latest computation, at most `max_age` seconds old, while the next one runs in the
background (`keep_warm` runs it on a timer, so that no request waits for the first).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

Statistics = dict[str, Any]
log = structlog.get_logger("tracking.stats")


class StatsSnapshot:
    """The latest statistics, and when and how fast they were computed."""

    def __init__(
        self,
        compute: Callable[[], Awaitable[Statistics]],
        *,
        max_age: float = 60.0,
        cheap: float = 0.25,
        exact_below: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._compute = compute
        self._max_age, self._cheap, self._clock = max_age, cheap, clock
        # Below this many requests the answer is always exact, however slow a busy machine
        # made the last computation: a small read model never gets stale statistics.
        self._exact_below = exact_below
        self._latest: Statistics | None = None
        self._computed_at = float("-inf")
        self._took = float("inf")
        self._running: asyncio.Future[Statistics] | None = None

    async def current(self) -> Statistics:
        """The statistics now when they are cheap to compute, else the latest ones."""
        if (
            self._latest is None
            or self._took <= self._cheap
            or int(self._latest.get("total") or 0) < self._exact_below
        ):
            return await self.refresh()
        if self._stale() and self._running is None:
            self._start().add_done_callback(_log_failure)
        return self._latest

    async def keep_warm(self) -> None:
        """Compute when there is nothing yet, or when what there is has grown stale."""
        if self._latest is None or self._stale():
            await self.refresh()

    async def refresh(self) -> Statistics:
        """Compute them now, or join the computation already running."""
        return await asyncio.shield(self._running or self._start())

    def _start(self) -> asyncio.Future[Statistics]:
        self._running = asyncio.ensure_future(self._run())
        return self._running

    async def _run(self) -> Statistics:
        try:
            started = self._clock()
            latest = await self._compute()
            self._latest, self._computed_at = latest, started
            self._took = self._clock() - started
            return latest
        finally:
            self._running = None

    def _stale(self) -> bool:
        return self._clock() - self._computed_at > self._max_age


def _log_failure(computation: asyncio.Future[Statistics]) -> None:
    # A failed refresh in the background leaves the latest statistics in place.
    if not computation.cancelled() and computation.exception() is not None:
        log.warning("stats.refresh_failed", error=str(computation.exception()))
