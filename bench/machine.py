"""What the figures were measured on."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import asyncpg
import orjson

from shared.request.model import EXAMPLE_REQUEST, RequestDetails


def describe(postgres_version: str) -> dict[str, str]:
    """CPU, cores, memory, load, Python and PostgreSQL of this run."""
    cpu = _first("/proc/cpuinfo", "model name") or platform.processor() or "unknown"
    mhz = _first("/proc/cpuinfo", "cpu MHz")
    memory_kb = _first("/proc/meminfo", "MemTotal")
    memory = f"{int(memory_kb.split()[0]) / 1024**2:.1f} GiB" if memory_kb else "unknown"
    return {
        "cpu": f"{cpu} @ {float(mhz):.0f} MHz" if mhz else cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "load average (1, 5, 15 min)": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "python": platform.python_version(),
        "postgresql": postgres_version,
        "os": platform.platform(),
    }


async def pace(url: str, when: str = "before the run") -> dict[str, str]:
    """How fast this machine does the services' kind of work, measured while it is idle
    (before anything of the run is started, and again once all of it has stopped: `when`
    names which): one core's, and PostgreSQL's at `url`.

    Machines that describe themselves alike can differ threefold in what the system does on
    them (two reported as "AMD EPYC", 2 cores, 2.4-2.6 GHz), so the record carries what the
    machine did rather than what it is called: the interpreter on its own and a request's
    document validated and serialized as intake does it (pydantic's compiled core and
    orjson), each the best of five rounds, the least disturbed; then a round trip to
    PostgreSQL and a commit, each the median of its series. The services spend most of a
    request in round trips between processes (HTTP, PostgreSQL, the broker), which a
    virtual machine can make dearer while leaving a core's own speed as it is."""
    document = orjson.dumps(EXAMPLE_REQUEST)

    def interpreter() -> None:
        total = 0
        for number in range(10_000):
            total += len(str(number)) * (number % 7)

    def validation() -> None:
        orjson.dumps(RequestDetails.model_validate_json(document).model_dump(mode="json"))

    loop, validated = _best_of_five(interpreter, 100), _best_of_five(validation, 500)
    round_trip, commit = await _postgres_times(url)
    return {
        f"speed (one core, idle, {when})": (
            f"{loop * 1e3:.2f} ms for 10,000 turns of a Python loop; {validated * 1e6:.0f} µs "
            "to validate and serialize the example request"
        ),
        f"PostgreSQL (idle, {when})": (
            f"{round_trip * 1e6:.0f} µs a round trip (`SELECT 1`, median of 1,000); "
            f"{commit * 1e3:.2f} ms a commit (a one-row INSERT, median of 200)"
        ),
    }


async def _postgres_times(url: str) -> tuple[float, float]:
    """Median seconds of a `SELECT 1` and of a one-row INSERT with its COMMIT, one at a
    time, on the server at `url`: the floors of every statement and every transaction the
    services run (the second adds a flush of the write-ahead log)."""
    connection = await asyncpg.connect(url)
    try:
        round_trips = []
        for _ in range(1_000):
            started = time.perf_counter()
            await connection.fetchval("SELECT 1")
            round_trips.append(time.perf_counter() - started)
        # An ordinary table (a temporary one writes no WAL), dropped afterwards; each
        # statement outside a transaction block commits on its own.
        table = f"bench_commit_probe_{os.getpid()}"
        await connection.execute(f"CREATE TABLE {table} (n int)")
        commits = []
        for number in range(200):
            started = time.perf_counter()
            await connection.execute(f"INSERT INTO {table} VALUES ($1)", number)
            commits.append(time.perf_counter() - started)
        await connection.execute(f"DROP TABLE {table}")
    finally:
        await connection.close()
    return statistics.median(round_trips), statistics.median(commits)


def _best_of_five(work: Callable[[], None], times: int) -> float:
    """The shortest of five rounds of `times` calls of `work`, in seconds per call."""
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(times):
            work()
        rounds.append((time.perf_counter() - started) / times)
    return min(rounds)


async def postgres_version(url: str) -> str:
    connection = await asyncpg.connect(url)
    try:
        version: str = await connection.fetchval("SHOW server_version")
        settings = await connection.fetch(
            "SELECT name, setting, unit FROM pg_settings WHERE name = ANY($1::text[])",
            ["shared_buffers", "work_mem", "effective_cache_size", "fsync", "synchronous_commit"],
        )
    finally:
        await connection.close()
    tuned = ", ".join(f"{r['name']}={r['setting']}{r['unit'] or ''}" for r in settings)
    return f"{version} ({tuned})"


def _first(path: str, key: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            name, _, value = line.partition(":")
            if name.strip() == key:
                return value.strip()
    except OSError:
        pass
    return None
