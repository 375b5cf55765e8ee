"""The benchmark records how fast its machine is, so that runs on different machines can be
read side by side (bench/machine.py)."""

from __future__ import annotations

import re

import asyncpg

from bench.machine import pace
from bench.server import plain_url


async def test_the_record_says_how_fast_a_core_and_a_commit_were(pg_server: str) -> None:
    url = plain_url(pg_server)

    figures = await pace(url)

    loop, validation = re.fullmatch(
        r"([\d.]+) ms for 10,000 turns of a Python loop; (\d+) µs to validate and "
        r"serialize the example request",
        figures["speed (one core, idle, before the run)"],
    ).groups()  # type: ignore[union-attr]
    round_trip, commit = re.fullmatch(
        r"(\d+) µs a round trip \(`SELECT 1`, median of 1,000\); ([\d.]+) ms a commit "
        r"\(a one-row INSERT, median of 200\)",
        figures["PostgreSQL (idle, before the run)"],
    ).groups()  # type: ignore[union-attr]
    assert float(loop) > 0 and int(validation) > 0
    # A commit is a round trip and more (PostgreSQL of the tests does not flush its log).
    assert 0 < int(round_trip) / 1000 <= float(commit) + 0.05
    # What the commits were timed on is gone again.
    connection = await asyncpg.connect(url)
    try:
        left = await connection.fetchval(
            "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'bench_commit_probe%'"
        )
    finally:
        await connection.close()
    assert left == 0
