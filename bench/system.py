"""Benchmark of the whole system on one machine: `python -m bench.system` (`make bench`).

Starts its own PostgreSQL (or uses MLA_BENCH_POSTGRES_URL), the embedded broker (or runs on the
Kafka MLA_BENCH_KAFKA_BOOTSTRAP_SERVERS names, bench/system_stack.py) and the four services as
processes, then measures, in this order:

0. the system idle: the CPU of every part with no request sent (bench/idle.py);
1. the ladder: received → routed (as in 2) at rising rates (10, 25, 50 requests/s), to find
   the highest steady load at which this machine keeps its p99 within the target;
2. received → routed visible in tracking: requests submitted at a steady rate (open loop),
   each timed from intake's 201 to the moment tracking's live stream shows it routed;
3. intake's sustained accepted requests/s: closed-loop clients submitting back to back
   (while routing, tracking and notify consume what it publishes, as they would);
4. full lifecycles: submitted, routed, executed by every office, closed, seen closed;
5. intake alone: closed-loop clients with routing, tracking and notify paused (intake's own
   ceiling), then the time those take to work off what it took in (theirs);
6. event appends: the services' event store beside the `eventsourcing` library's recorder
   on the same PostgreSQL (the services are stopped by then);

and throughout, the resident memory of each service and the CPU of every part. The
figures go to docs/benchmarks/system.md (between its result markers) and system.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import shlex
import shutil
import signal
import sys
import tempfile
from collections.abc import Coroutine, Iterator, Sequence
from pathlib import Path
from typing import Any

from bench import alone, append, hops, idle, intake_load, ladder, lifecycle, steady
from bench.caseload import Caseload
from bench.figures import WINDOW_SECONDS, Latencies
from bench.follow import ArchiveFollower, Follower, StreamFollower
from bench.http_client import Pool
from bench.intake_load import Sent, Submissions
from bench.load import generate
from bench.machine import describe, pace, postgres_version
from bench.measure import now
from bench.resources import Sampler
from bench.run import Run
from bench.server import postgres_server
from bench.system_report import SystemReport
from bench.system_stack import HOST, Stack
from bench.whereabouts import whereabouts
from shared.database_url import asyncpg_dsn

ROOT = Path(__file__).resolve().parent.parent


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Stopped with SIGTERM, still stop what this run started (the `finally` and `with`).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    command = "python -m bench.system " + shlex.join(argv if argv is not None else sys.argv[1:])
    report = SystemReport(command=command.strip())
    report.settings["follow"] = args.follow
    report.settings["service settings"] = args.set
    # Others' work on the machine shows in the figures: the load before and after is kept.
    load_before = describe("")["load average (1, 5, 15 min)"]
    workdir = Path(tempfile.mkdtemp(prefix="mla-bench-system-"))
    print(f"logs of the services: {workdir}", flush=True)
    with postgres_server() as server:
        # Measured idle, before anything of the run is started.
        idle_pace = asyncio.run(pace(asyncpg_dsn(server)))
        stack = Stack(workdir, server, partitions=args.partitions)
        if args.follow == "stream":
            # The stream looks at the archive this often (once a second by default).
            stack.overrides["tracking"] = {"STREAM_POLL_SECONDS": "0.01"}
        for setting in args.set:
            name, value = setting.split("=", 1)
            service, key = name.split(".", 1)
            stack.overrides.setdefault(service, {})[key.upper()] = value
        try:
            print("starting the broker and the four services...", flush=True)
            stack.start()
            _run_fast(_measure(args, stack, report))
        finally:
            stack.stop()
        if args.append_events:
            print(f"appending {args.append_events:,} events both ways...", flush=True)
            events = generate(Caseload(now()), args.append_events)
            report.append = append.compare(server, events, args.append_writers)
        report.machine = describe(asyncio.run(postgres_version(asyncpg_dsn(server))))
        report.machine["load average (1, 5, 15 min)"] += f" at the end; {load_before} before"
        report.machine |= idle_pace
        # Measured again with everything of the run stopped: a virtual machine's cores can
        # slow down or speed up while it runs (twice the loop's time within the hour), and a
        # run whose pace moved is read with that in mind.
        report.machine |= asyncio.run(pace(asyncpg_dsn(server), "after the run"))
        report.machine["broker"] = (
            f"Kafka at {stack.kafka}, topic {stack.topic}"
            if stack.kafka
            else "the embedded one (Tansu, in memory)"
        )
    report.print()
    if args.output:
        report.write(Path(args.output))
        print(f"\nwritten to {args.output} and {Path(args.output).with_suffix('.json')}")
    if not args.keep_logs:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def _run_fast(work: Coroutine[Any, Any, None]) -> None:
    """Run the load generator on uvloop (a dependency of the services): it shares the cores
    with what it measures, and uvloop's loop costs less per call than asyncio's own."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(work)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(work)


@contextlib.contextmanager
def _collector_held_off() -> Iterator[None]:
    """The load generator's cyclic garbage collector held off while it times the system: a
    full collection walks every object the run has made, and whatever the generator was
    timing waits for it (146 ms, 17 s into the open loop, measured: the requests that became
    visible in tracking meanwhile were timed 60-120 ms late). A pause of the instrument,
    not of the system; what the run leaves for the collector is collected after it."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


async def _measure(args: argparse.Namespace, stack: Stack, report: SystemReport) -> None:
    sampler = Sampler(stack.pids(), stack.others())
    sampler.start()
    intake = Pool(HOST, stack.ports["intake"])
    routing = Pool(HOST, stack.ports["routing"])
    tracking = Pool(HOST, stack.ports["tracking"])
    notify = Pool(HOST, stack.ports["notify"])
    operator = stack.token("bench-operator", roles=["operator"])
    submissions = Submissions(HOST, stack.token("bench-authority", authority="si-dsp-ljubljana"))
    # Before the follower starts: its looks at tracking's archive would count as PostgreSQL's.
    await idle.measure(sampler, settle=args.warmup, seconds=args.idle_seconds)
    follower: Follower
    if args.follow == "stream":
        follower = StreamFollower(HOST, stack.ports["tracking"], operator)
    else:
        follower = ArchiveFollower(asyncpg_dsn(stack.database_urls["tracking"]))
    await follower.start()
    run = Run(
        args,
        stack,
        intake,
        routing,
        tracking,
        notify,
        operator,
        submissions,
        follower,
        sampler,
        report,
    )
    try:
        with _collector_held_off():
            await ladder.climb(run)
            await _routed_latency(run)
            await _sustained(run)
            await _lifecycles(run)
            await alone.measure(run)
        report.rereads = {
            name: await hops.rereads(pool, operator)
            for name, pool in (
                ("intake", intake),
                ("routing", routing),
                ("tracking", tracking),
                ("notify", notify),
            )
        }
    finally:
        await follower.stop()
        intake.close()
        routing.close()
        tracking.close()
        notify.close()
        sampler.stop()
    report.peak_rss = dict(sampler.peak_rss)
    report.phases = sampler.phases


async def _routed_latency(run: Run) -> None:
    rate, seconds, report, operator = run.args.rate, run.args.rate_seconds, run.report, run.operator
    services = {"intake": run.intake, "routing": run.routing, "tracking": run.tracking}
    print(f"warming up, then {seconds:g} s at {rate:g} requests/s (open loop)...", flush=True)
    await steady.warm_up(run, rate=rate, seconds=run.args.warmup)
    before = {name: await hops.histograms(pool, operator) for name, pool in services.items()}
    result, seen = await steady.routed_at(
        run, rate=rate, seconds=seconds, phase=f"{rate:g} requests/s, open loop"
    )
    after = {name: await hops.histograms(pool, operator) for name, pool in services.items()}
    report.routed_hops = hops.hops(before, after)
    visible, report.routed_missing = result.routed(seen)
    report.open_loop_rate = rate
    report.open_loop_intake = Latencies.of([s.latency for s in result.accepted])
    report.routed_visible = Latencies.of(visible)
    report.routed_windows = _by_window(result.accepted, seen)
    print(f"  routed visible p50/p99: {report.routed_visible.brief()}", flush=True)
    missing = [s.request_id for s in result.accepted if s.request_id not in seen]
    if missing:
        report.routed_whereabouts = await _trace(run, missing)


async def _trace(run: Run, missing: list[str]) -> dict[str, str]:
    """Where the first of the requests never seen routed stood in each service's records,
    printed: looked up while the stack still runs, since how far each got is what tells a
    lost event from a slow one."""
    found = await whereabouts(run.stack.database_urls, missing[:5])
    print(f"  {len(missing)} never showed as routed; the first:", flush=True)
    for request_id, where in found.items():
        print(f"    {request_id}: {where}", flush=True)
    return found


def _by_window(accepted: list[Sent], seen: dict[str, float]) -> list[tuple[int, Latencies]]:
    """Received → routed of the requests sent in each window of the run, from its start."""
    if not accepted:
        return []
    first = min(s.sent for s in accepted)
    windows: dict[int, list[float]] = {}
    for s in accepted:
        if s.request_id in seen:
            start = int((s.sent - first) // WINDOW_SECONDS) * WINDOW_SECONDS
            windows.setdefault(start, []).append(seen[s.request_id] - s.answered)
    return [(start, Latencies.of(windows[start])) for start in sorted(windows)]


async def _sustained(run: Run) -> None:
    args, sampler, report = run.args, run.sampler, run.report
    connections, seconds = args.connections, args.seconds
    batches_before = await _submission_batches(run.intake, run.operator)
    print(
        f"intake: {connections} clients back to back, {args.warmup:g} s warm-up + {seconds:g} s...",
        flush=True,
    )
    started = sampler.begin()
    result = await intake_load.closed_loop(
        run.intake, run.submissions, connections=connections, seconds=seconds, warmup=args.warmup
    )
    # Not counted per request: the services go on consuming what intake took in after it.
    sampler.end(f"intake, {connections} clients back to back", started)
    report.settings["intake"] = f"{connections} clients, {seconds:g} s"
    report.intake_rate = result.rate
    report.intake_latency = Latencies.of([s.latency for s in result.accepted])
    report.intake_refused = result.refused
    report.intake_broken = result.broken
    batches, submitted = (
        after - before
        for after, before in zip(
            await _submission_batches(run.intake, run.operator), batches_before, strict=True
        )
    )
    report.submissions_per_batch = submitted / batches if batches else 0.0
    print(f"  {result.rate:,.0f} accepted/s, p50/p99 {report.intake_latency.brief()}", flush=True)
    # What intake took in is still being routed and tracked: waited for, so that the
    # lifecycles after it start on a quiet system (how long it took is a figure too).
    accepted = [s.request_id for s in result.accepted]
    seen, report.downstream_catch_up_seconds, _ = await steady.worked_off(
        run, accepted, "catching up with the backlog"
    )
    missing = [request_id for request_id in accepted if request_id not in seen]
    if missing:
        report.catch_up_missing = len(missing)
        report.catch_up_whereabouts = await _trace(run, missing)
    # intake's own consumer (routing's facts, which a closure needs) and notify's work off
    # their share too: the lifecycles after it start once neither has anything left.
    report.consumers_settled_seconds = await hops.settled(
        [run.intake, run.notify], run.operator, args.catch_up
    )
    print(
        f"  intake's and notify's consumers done {report.consumers_settled_seconds:.1f} s later",
        flush=True,
    )


async def _submission_batches(intake: Pool, token: str) -> tuple[float, float]:
    """intake's batches of submissions so far, and the submissions in them (its metrics)."""
    name = "mla_group_commit_calls_per_batch"
    read = await hops.histograms(intake, token, frozenset({name}))
    batches = read.get((name, "submissions"), hops.Reading())
    return batches.count, batches.sum


async def _lifecycles(run: Run) -> None:
    count, concurrency, report = run.args.lifecycles, run.args.lifecycle_concurrency, run.report
    print(f"{count} full lifecycles, {concurrency} at a time...", flush=True)
    offices: dict[str, str] = {}

    def office(office_id: str) -> str:
        if office_id not in offices:
            offices[office_id] = run.stack.token(office_id, office_id=office_id)
        return offices[office_id]

    parties = lifecycle.Parties(run.intake, run.routing, HOST, run.operator, office)
    started = run.sampler.begin()
    result = await lifecycle.run(
        parties, run.submissions, run.follower, lifecycles=count, concurrency=concurrency
    )
    run.sampler.end(f"full lifecycles, {concurrency} at a time", started)
    report.settings["lifecycle"] = f"{count} lifecycles, {concurrency} at a time"
    report.lifecycle_rate = result.rate
    report.lifecycle_count = len(result.durations)
    report.lifecycle_duration = Latencies.of(result.durations)
    report.lifecycle_close_retries = result.close_retries
    report.lifecycle_failures = result.failures
    print(f"  {result.rate:,.1f} lifecycles/s", flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.system", description=__doc__)
    parser.add_argument("--rate", type=float, default=100, help="open-loop requests/s")
    parser.add_argument("--rate-seconds", type=float, default=30, help="open-loop duration")
    parser.add_argument("--connections", type=int, default=32, help="closed-loop clients")
    parser.add_argument("--seconds", type=float, default=30, help="closed-loop duration")
    parser.add_argument("--warmup", type=float, default=5, help="seconds before each measure")
    parser.add_argument(
        "--idle-seconds",
        type=float,
        default=10,
        help="first, the system idle: no request sent for this long (0: skip)",
    )
    parser.add_argument(
        "--catch-up", type=float, default=600, help="longest wait for the backlog (s)"
    )
    parser.add_argument("--lifecycles", type=int, default=500)
    parser.add_argument("--lifecycle-concurrency", type=int, default=50)
    parser.add_argument(
        "--alone-seconds",
        type=float,
        default=20,
        help="intake alone, the other services paused, after the lifecycles (0: skip)",
    )
    parser.add_argument("--append-events", type=int, default=10_000, help="0: skip")
    parser.add_argument("--append-writers", type=int, default=8)
    parser.add_argument("--partitions", type=int, default=12)
    parser.add_argument(
        "--ladder",
        type=ladder.rates,
        default="10,25,50",
        help="first, received → routed at each of these rates (requests/s, separated by "
        "commas; empty: none)",
    )
    parser.add_argument(
        "--ladder-requests",
        type=int,
        default=300,
        help="requests sent at each rate of the ladder (its p99 the third slowest of 300)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SERVICE.SETTING=VALUE",
        help="a service's setting for this run, without its prefix "
        "(e.g. tracking.CONSUMER_BATCH_SIZE=10)",
    )
    parser.add_argument(
        "--follow",
        choices=("archive", "stream"),
        default="archive",
        help="how the benchmark sees what tracking shows: its archive, read from its database "
        "(no cost to tracking), or its live event stream (bench/follow.py)",
    )
    parser.add_argument("--output", help="write the results into this markdown file")
    parser.add_argument("--keep-logs", action="store_true", help="keep the services' logs")
    return parser


if __name__ == "__main__":
    sys.exit(main())
