"""The ladder: received → routed at rising steady rates, to find the highest load at which a
machine keeps its p99 within the target (`make bench` runs it first; change 55 of
docs/benchmarks/system.md)."""

from __future__ import annotations

import argparse
import asyncio

from bench import steady
from bench.figures import Latencies, Rung
from bench.run import Run


async def climb(run: Run) -> None:
    """received → routed at each rate of `--ladder` in turn, rising: the load up to which
    this machine keeps the target, for sizing it. Run first, after a warm-up, each rate after
    a quiet pause: the embedded broker's fetches grow dearer with every message its log holds
    (after the lifecycles, at 50 requests/s, it took 11 ms of CPU a request against 2.6 at
    100 in the first phase), which Kafka's do not."""
    rates, report = run.args.ladder, run.report
    if not rates:
        return
    print(f"warming up, then the ladder: {rates} requests/s...", flush=True)
    await steady.warm_up(run, rate=rates[0], seconds=run.args.warmup)
    for rate in rates:
        await asyncio.sleep(2)
        # As many requests at every rate, so that each p99 rests on as many.
        seconds = run.args.ladder_requests / rate
        print(f"{seconds:g} s at {rate:g} requests/s (the ladder)...", flush=True)
        result, seen = await steady.routed_at(
            run, rate=rate, seconds=seconds, phase=f"{rate:g} requests/s, open loop (the ladder)"
        )
        visible, missing = result.routed(seen)
        report.ladder.append(Rung(rate, Latencies.of(visible), missing))
        print(f"  routed visible p50/p99: {report.ladder[-1].routed.brief()}", flush=True)


def rates(text: str) -> list[float]:
    """The ladder's rates from "10,25,50" (empty: none), each above 0, in rising order."""
    try:
        found = [float(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"rates separated by commas, not {text!r}") from exc
    if any(rate <= 0 for rate in found):
        raise argparse.ArgumentTypeError(f"each rate above 0, not {text!r}")
    return sorted(found)
