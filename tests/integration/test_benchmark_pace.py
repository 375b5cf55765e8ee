"""The benchmark records how fast its machine is, so that runs on different machines can be
read side by side (bench/machine.py)."""

from __future__ import annotations

import re

import asyncpg
import pytest

from bench.machine import pace
from shared.database_url import asyncpg_dsn


# Read before the run and again once it has stopped, each reading named by when it was taken.
@pytest.mark.parametrize("when", ["before the run", "after the run"])
async def test_the_record_says_how_fast_a_core_and_a_commit_were(pg_server: str, when: str) -> None:
    url = asyncpg_dsn(pg_server)

    figures = await pace(url, when)

    assert set(figures) == {f"speed (one core, idle, {when})", f"PostgreSQL (idle, {when})"}

    loop, validation = re.fullmatch(
        r"([\d.]+) ms for 10,000 turns of a Python loop; (\d+) µs to validate and "
        r"serialize the example request",
        figures[f"speed (one core, idle, {when})"],
    ).groups()  # type: ignore[union-attr]
    round_trip, commit = re.fullmatch(
        r"(\d+) µs a round trip \(`SELECT 1`, median of 1,000\); ([\d.]+) ms a commit "
        r"\(a one-row INSERT, median of 200\)",
        figures[f"PostgreSQL (idle, {when})"],
    ).groups()  # type: ignore[union-attr]
    assert float(loop) > 0 and int(validation) > 0
    # Each timed on the server: more than nothing, less than a second. Not one against the
    # other: the tests' PostgreSQL does not flush its log, so a commit costs about a round
    # trip, and the other tests' load moves between the two series (once 73 µs a round trip
    # against 0.02 ms a commit).
    assert 0 < int(round_trip) < 1_000_000
    assert 0 < float(commit) < 1_000
    # What the commits were timed on is gone again.
    connection = await asyncpg.connect(url)
    try:
        left = await connection.fetchval(
            "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'bench_commit_probe%'"
        )
    finally:
        await connection.close()
    assert left == 0
