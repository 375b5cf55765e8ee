"""The system idle: what each part costs with no request to handle, measured first.

An installation on one machine spends most of its time like this (a department's requests
come a few a day), and the load phases carry the same floor under their figures: the
consumers keep asking the broker for news, and on the embedded broker every fetch that
finds none costs it the same, whatever its log holds (docs/benchmarks/system.md).
"""

from __future__ import annotations

import asyncio

from bench.resources import Phase, Sampler

PHASE = "idle, no request sent"


async def measure(sampler: Sampler, *, settle: float, seconds: float) -> Phase | None:
    """The CPU of every part over `seconds` with nothing sent, after `settle` seconds for the
    services to finish starting (their consumer groups joined); None when `seconds` is 0."""
    if not seconds:
        return None
    print(f"the system idle: {settle:g} s to settle + {seconds:g} s...", flush=True)
    await asyncio.sleep(settle)
    started = sampler.begin()
    await asyncio.sleep(seconds)
    return sampler.end(PHASE, started)
