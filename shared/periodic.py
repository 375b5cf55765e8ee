"""A worker that runs an action at a fixed interval until it is stopped."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger("shared.periodic")


class Periodic:
    """Runs `action` every `interval` seconds; an error is logged and the next run goes on
    (an outage of the database must not end a monitor)."""

    def __init__(self, name: str, interval: float, action: Callable[[], Awaitable[object]]) -> None:
        self.name = name
        self._interval = interval
        self._action = action
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self._action()
            except Exception:
                log.exception("periodic.failed", task=self.name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._interval)

    def stop(self) -> None:
        self._stopping.set()
