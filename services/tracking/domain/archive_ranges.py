"""Verifying the archive in position ranges, each on its own, and joining the results.

The chain is sequential only through its links: entry n's stored `prev_hash` names entry
n-1's hash, and everything else about entry n is checked from entry n alone. So a range
a..b can be verified by itself, its first link taken on trust (as for a partial export:
`verify(..., from_position=a)`), and the ranges joined afterwards: each range must have
checked all of its positions, and its first entry must link to the head of the range
before it. An archive that passes this is exactly one that passes the one-pass walk.

Only an intact archive is judged here: when any range finds a problem, or two ranges do
not join, `join` answers None and the caller walks the whole archive in one pass, which
names the first break with the context around it (a tampered archive is the rare case, and
may take the longer way).

Checkpoints are split with the ranges: range k takes those at positions it covers (the
first range also the empty head, position 0; the last range those beyond the end, which
mean the archive was cut), so that each is compared, and its signature checked, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.tracking.domain.archive_checkpoints import Checkpoint
from services.tracking.domain.archive_verification import Verification


@dataclass(frozen=True, slots=True)
class PositionRange:
    first: int
    last: int


@dataclass(frozen=True, slots=True)
class RangeVerification:
    """A range's verification, and the hash its first entry links to (taken on trust)."""

    range: PositionRange
    verification: Verification
    first_link: bytes | None


def split(head: int, parts: int) -> list[PositionRange]:
    """Positions 1..head in `parts` ranges of (nearly) equal length."""
    parts = max(1, min(parts, head))
    bounds = [head * k // parts for k in range(parts + 1)]
    return [PositionRange(bounds[k] + 1, bounds[k + 1]) for k in range(parts)]


def checkpoints_of(
    ranges: Sequence[PositionRange], index: int, checkpoints: Sequence[Checkpoint]
) -> list[Checkpoint]:
    """The checkpoints range `index` compares (see the module docstring)."""
    span = ranges[index]
    low = 0 if index == 0 else span.first
    high = span.last if index < len(ranges) - 1 else None
    return [c for c in checkpoints if c.position >= low and (high is None or c.position <= high)]


def join(parts: Sequence[RangeVerification]) -> Verification | None:
    """The verification of the whole archive from its ranges' (in order), or None when any
    range is not intact or does not link to the one before."""
    previous: Verification | None = None
    for part in parts:
        result = part.verification
        if not result.ok or result.head_position != part.range.last:
            return None
        if previous is not None and part.first_link != previous.head_hash:
            return None
        previous = result
    if previous is None:
        return None
    return Verification(
        ok=True,
        entries_checked=sum(p.verification.entries_checked for p in parts),
        head_position=previous.head_position,
        head_hash=previous.head_hash,
        checkpoints_checked=sum(p.verification.checkpoints_checked for p in parts),
        first_problem=None,
        verified_checkpoints=tuple(c for p in parts for c in p.verification.verified_checkpoints),
        signatures_checked=all(p.verification.signatures_checked for p in parts),
    )
