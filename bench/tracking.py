"""Benchmark of tracking at a million events: `python -m bench.tracking [--events N]`.

Starts its own PostgreSQL (or uses MLA_BENCH_POSTGRES_URL), creates a fresh tracking
database, generates a realistic caseload, loads it in bulk, then measures through the
service's own code: replay (without and with apply), verify, the list at a million requests
(`--requests`; rows beyond those the events make are copies of them under new ids), the
statistics, and the same projection written with the `eventsourcing` library.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import asyncpg

from bench import load, measure
from bench.caseload import Caseload
from bench.machine import describe, pace, postgres_version
from bench.report import Report
from bench.server import fresh_database, postgres_server
from services.tracking.domain.archive import generate_private_key
from shared.database_url import asyncpg_dsn
from shared.db import UnitOfWork, create_engine, session_factory


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Stopped with SIGTERM, still stop the PostgreSQL this run started (the `with` below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with postgres_server() as server:
        url = fresh_database(server, "mla_tracking_bench")
        report = asyncio.run(_run(args, url, server))
    report.print()
    if args.json:
        Path(args.json).write_text(json.dumps(report.as_dict(), indent=2, default=str))
    return 0


async def _run(args: argparse.Namespace, url: str, server: str) -> Report:
    report = Report(events=args.events, requests=args.requests)
    dsn = asyncpg_dsn(url)
    report.machine = describe(await postgres_version(dsn)) | await pace(dsn)
    caseload = Caseload(measure.now())
    started = time.perf_counter()
    events = load.generate(caseload, args.events)
    load.check_sample(events)
    report.step("generate events (incl. routing engine)", time.perf_counter() - started)
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await _load(report, connection, events)
    finally:
        await connection.close()
    count, sample = len(events), events[: args.es_events]
    # The service's code runs in a process that holds nothing else: let go of the loading's
    # million events (the collector would otherwise walk them during every measurement).
    del events
    gc.collect()
    engine = create_engine(url, pool_size=2)
    sessions = session_factory(engine)
    try:
        await _replay_and_verify(report, lambda: UnitOfWork(sessions), count, url, args)
        await _grow(report, url, args.requests)
        await _queries(report, lambda: UnitOfWork(sessions), args)
    finally:
        await engine.dispose()
    report.comparison = [
        ("append, in bulk", "tracking (hash chain + COPY)", count, report.seconds("archive")),
        ("project, in bulk", "tracking (replay: the fold)", count, report.seconds("replay as of")),
    ]
    if sample:
        from bench import comparison  # only now: it configures the eventsourcing library

        report.comparison += await comparison.run(server, sample)
    report.machine["load average at the end"] = describe("")["load average (1, 5, 15 min)"]
    return report


async def _load(report: Report, connection: asyncpg.Connection, events: list[Any]) -> None:
    started = time.perf_counter()
    entries = load.chain(events)
    await load.copy_archive(connection, events, entries)
    report.step("archive: hash chain + COPY", time.perf_counter() - started)
    started = time.perf_counter()
    views = load.fold_checked(entries)
    report.step("read model: fold every event, checked", time.perf_counter() - started)
    started = time.perf_counter()
    await load.copy_read_model(connection, views.values())
    report.step("read model: plan deadlines + COPY", time.perf_counter() - started)
    await connection.execute("VACUUM ANALYZE")
    report.archived_requests = len(views)


async def _replay_and_verify(
    report: Report, uow: Any, events: int, url: str, args: argparse.Namespace
) -> None:
    workers = args.replay_workers
    seconds, outcome = await measure.replay(uow, until_position=events, workers=workers)
    report.rate(f"replay as of the last position (the fold, replay_workers={workers})", events,
                seconds, outcome)  # fmt: skip
    seconds, outcome = await measure.replay(uow, until_position=events, workers=1)
    report.rate("replay as of the last position (the fold, in the service's process)", events,
                seconds, outcome)  # fmt: skip
    seconds, outcome = await measure.replay(uow, workers=workers)
    report.rate(f"replay, compared with the live read model (replay_workers={workers})", events,
                seconds, outcome)  # fmt: skip
    seconds, outcome = await measure.replay(uow, apply=True, workers=workers)
    report.rate("replay + apply (live already equal)", events, seconds, outcome)
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.execute("DELETE FROM requests; DELETE FROM deadlines")
    finally:
        await connection.close()
    seconds, outcome = await measure.replay(uow, apply=True, workers=workers)
    report.rate("replay + apply into emptied read models", events, seconds, outcome)
    key = generate_private_key()
    seconds, result = await measure.verify(uow, key, args.verify_workers)
    report.rate(f"verify (chain + checkpoint, verify_workers={args.verify_workers})", events,
                seconds, {"ok": result.ok})  # fmt: skip
    seconds, result = await measure.verify(uow, key, 1)
    report.rate("verify (chain + checkpoints, in the service's process)", events, seconds,
                {"ok": result.ok})  # fmt: skip


async def _grow(report: Report, url: str, requests: int) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        started = time.perf_counter()
        rows = await load.request_rows(connection)
        if requests > len(rows):
            await load.copy_more_requests(connection, rows, requests - len(rows))
        del rows
        await connection.execute("VACUUM ANALYZE requests")
        report.step(f"read model: grow to {requests:,} requests", time.perf_counter() - started)
        report.office = await connection.fetchval(
            "SELECT o FROM (SELECT unnest(offices) AS o FROM requests LIMIT 20000) s "
            "GROUP BY o ORDER BY count(*) DESC LIMIT 1"
        )
    finally:
        await connection.close()


async def _queries(report: Report, uow: Any, args: argparse.Namespace) -> None:
    filters = measure.list_filters(measure.now(), report.office or "")
    report.latencies = await measure.list_latencies(uow, filters, args.runs)
    report.latencies.extend(await measure.stats_latencies(uow, args.stats_runs))
    seconds, outcome = await measure.stats_checked(uow)
    report.step("stats aggregated over every request (the check of the tallies)", seconds)
    report.stats_check = outcome


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.tracking", description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=1_000_000, help="rows of the list")
    parser.add_argument("--runs", type=int, default=200, help="runs of each list query")
    parser.add_argument("--stats-runs", type=int, default=200)
    parser.add_argument(
        "--es-events", type=int, default=20_000, help="events for the comparison (0: skip)"
    )
    parser.add_argument(
        "--replay-workers", type=int, default=2, help="processes folding the archive (replay)"
    )
    parser.add_argument(
        "--verify-workers", type=int, default=2, help="processes verifying the archive"
    )
    parser.add_argument("--json", help="also write the figures to this file")
    return parser


if __name__ == "__main__":
    sys.exit(main())
