"""Verifying a large archive on every core: one position range a process
(`domain/archive_ranges` says why ranges verify apart and how they join).

Verifying is reading and hashing: at a million entries, the database sends about 1.7 GB
and Python hashes it, one core's worth each. In one process the two take turns (and a
worker thread only adds contention for the interpreter's lock), so each range gets a
process of its own, with a connection of its own: the processes and their database
backends keep every core busy. A worker imports only the driver and the domain (not the
service), so that it starts in a third of a second.

Below `PARALLEL_FROM` entries, starting processes costs more than it saves: the caller
verifies in one pass, as it does when the ranges find anything wrong.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.tracking.domain.archive_chain import Entry
from services.tracking.domain.archive_checkpoints import Checkpoint
from services.tracking.domain.archive_ranges import (
    PositionRange,
    RangeVerification,
    checkpoints_of,
    join,
    split,
)
from services.tracking.domain.archive_verification import Verification, verify

PARALLEL_FROM = 200_000
PAGE = 2_000  # entries a query (about 3.5 MB)
_RANGE_SQL = (
    "SELECT position, prev_hash, hash, body FROM archive WHERE position >= $1 "
    "AND position <= $2 ORDER BY position LIMIT $3"
)


async def verify_in_ranges(
    dsn: str,
    head: int,
    checkpoints: Sequence[Checkpoint],
    public_key: Ed25519PublicKey | None,
    workers: int,
) -> Verification | None:
    """The verification of positions 1..head in `workers` processes, or None when the
    archive is not intact (then the one-pass walk must name what is wrong)."""
    ranges = split(head, workers)
    key = public_key.public_bytes_raw() if public_key is not None else None
    loop = asyncio.get_running_loop()
    # spawn, not fork: this process runs an event loop and threads that a fork would copy
    # mid-flight.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(len(ranges), mp_context=context) as pool:
        parts = await asyncio.gather(
            *(
                loop.run_in_executor(
                    pool, verify_range, dsn, span, checkpoints_of(ranges, k, checkpoints), key
                )
                for k, span in enumerate(ranges)
            )
        )
    return join(parts)


def verify_range(
    dsn: str, span: PositionRange, checkpoints: list[Checkpoint], public_key: bytes | None
) -> RangeVerification:
    """In a worker process: one range verified, its first link taken on trust."""
    key = Ed25519PublicKey.from_public_bytes(public_key) if public_key is not None else None
    loop = asyncio.new_event_loop()
    connection = loop.run_until_complete(asyncpg.connect(dsn))
    links: list[bytes] = []

    def entries() -> Iterator[Entry]:
        first = span.first
        while first <= span.last:
            rows = loop.run_until_complete(connection.fetch(_RANGE_SQL, first, span.last, PAGE))
            if not rows:
                return
            if not links:
                links.append(rows[0][1])
            for row in rows:
                yield Entry(*row)
            first = rows[-1][0] + 1

    try:
        result = verify(entries(), checkpoints, key, from_position=span.first)
    finally:
        loop.run_until_complete(connection.close())
        loop.close()
    return RangeVerification(span, result, links[0] if links else None)
