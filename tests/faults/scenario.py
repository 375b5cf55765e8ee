"""A fault under load: submissions before, during and after it, then every promise checked
(tests/faults/promises.py) and the scenario's record saved."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable

from tests.faults.conftest import Record, System
from tests.faults.load import Load
from tests.faults.promises import promises_kept


async def under_load(
    system: System,
    record: Record,
    fault: Callable[[], Awaitable[None]],
    *,
    rate: float = 8,
    notify_killed: bool = False,
) -> Load:
    """Load before, during and after the fault; then every promise checked."""
    load = Load(system.stack.url("intake"), marker=f"FAULT-{uuid.uuid4().hex[:8]}", rate=rate)
    load.start()
    try:
        await asyncio.sleep(3)
        started = time.monotonic()
        await fault()
        await asyncio.sleep(3)
    finally:
        await load.stop()
    record.did.append(
        f"{load.sent} submissions at {rate:g}/s; the fault took {time.monotonic() - started:.1f}s"
    )
    record.found = await promises_kept(
        system.stack, load, system.receiver, notify_killed=notify_killed
    )
    record.found["answers to the client"] = ", ".join(
        f"{answer}: {count}" for answer, count in sorted(load.answers.items())
    )
    record.save()
    return load
