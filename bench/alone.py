"""intake alone: the most it accepts with the machine to itself, routing, tracking and notify
paused; then how fast those work off what it took in meanwhile (change 56 of
docs/benchmarks/system.md).

The sustained phase measures the system: every request intake accepts is routed, tracked and
notified on the same two cores. This one tells the parts apart: intake's own ceiling (what
one instance takes in when the consumers run elsewhere, for sizing it) and the consumers'
(the requests a second they route and track with the machine to themselves), whose sum of
costs is what the sustained rate is made of.
"""

from __future__ import annotations

from bench import intake_load, steady
from bench.figures import Backlog, Latencies
from bench.run import Run

PAUSED = ("routing", "tracking", "notify")


async def measure(run: Run) -> None:
    args, report, sampler = run.args, run.report, run.sampler
    if not args.alone_seconds:
        return
    connections, seconds = args.connections, args.alone_seconds
    print(
        f"intake alone ({', '.join(PAUSED)} paused): {connections} clients back to back, "
        f"{args.warmup:g} s warm-up + {seconds:g} s...",
        flush=True,
    )
    with run.stack.paused(PAUSED):
        warm = await intake_load.closed_loop(
            run.intake, run.submissions, connections=connections, seconds=args.warmup, warmup=0
        )
        started = sampler.begin()
        result = await intake_load.closed_loop(
            run.intake, run.submissions, connections=connections, seconds=seconds, warmup=0
        )
        # Counted per request: nothing else of the system ran meanwhile.
        phase = sampler.end(f"intake alone, {connections} clients (the others paused)", started)
        phase.requests = len(result.accepted)
    report.intake_alone_rate = result.rate
    report.intake_alone_latency = Latencies.of([s.latency for s in result.accepted])
    report.settings["intake alone"] = f"{connections} clients, {seconds:g} s"
    print(
        f"  {result.rate:,.0f} accepted/s, p50/p99 {report.intake_alone_latency.brief()}",
        flush=True,
    )
    # Nothing of it was routed while they were paused: all of it is theirs to work off now.
    backlog = [s.request_id for s in (*warm.accepted, *result.accepted)]
    print(f"  routing and tracking working off its {len(backlog):,} requests...", flush=True)
    seen, took, phase = await steady.worked_off(
        run, backlog, "working off what intake took in alone"
    )
    phase.requests = len(seen)
    report.alone_backlog = Backlog(len(backlog), took, missing=len(backlog) - len(seen))
    print(f"  {report.alone_backlog.rate():,.0f} routed/s", flush=True)
