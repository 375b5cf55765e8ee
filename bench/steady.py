"""Submissions at a steady rate (open loop), each followed until tracking shows it routed:
the step the benchmark's received → routed phases are made of (bench/system.py and
bench/ladder.py)."""

from __future__ import annotations

import time

from bench import intake_load
from bench.intake_load import LoadResult
from bench.resources import Phase
from bench.run import Run
from shared.events.catalogue import ROUTED

# The longest wait, after the last submission, for tracking to show them all routed.
ROUTED_WITHIN_SECONDS = 60


async def warm_up(run: Run, *, rate: float, seconds: float) -> None:
    """Submissions at `rate` for `seconds`, untimed, until tracking shows them routed."""
    warm = await intake_load.open_loop(run.intake, run.submissions, rate=rate, seconds=seconds)
    await run.follower.all_seen(
        [s.request_id for s in warm.accepted], ROUTED, ROUTED_WITHIN_SECONDS
    )


async def routed_at(
    run: Run, *, rate: float, seconds: float, phase: str
) -> tuple[LoadResult, dict[str, float]]:
    """Submissions at `rate` for `seconds`, a phase of the sampler (its CPU counted over the
    requests accepted) until tracking shows them routed: the load's result, and when tracking
    showed each routed."""
    started = run.sampler.begin()
    result = await intake_load.open_loop(run.intake, run.submissions, rate=rate, seconds=seconds)
    seen = await run.follower.all_seen(
        [s.request_id for s in result.accepted], ROUTED, ROUTED_WITHIN_SECONDS
    )
    run.sampler.end(phase, started).requests = len(result.accepted)
    return result, seen


async def worked_off(
    run: Run, request_ids: list[str], phase: str
) -> tuple[dict[str, float], float, Phase]:
    """A backlog waited for, as a phase of the sampler, until tracking shows every one of these
    requests routed (at most `--catch-up`): when it showed each, the seconds it took, and the
    phase."""
    started = run.sampler.begin()
    clock = time.perf_counter()
    seen = await run.follower.all_seen(request_ids, ROUTED, run.args.catch_up)
    seconds = time.perf_counter() - clock
    return seen, seconds, run.sampler.end(phase, started)
