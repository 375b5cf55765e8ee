"""A large archive is verified in position ranges at once; joined, the ranges answer what
the one-pass walk answers for an intact archive, and nothing at all for a broken one (the
one-pass walk then names the break)."""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise

import pytest

from services.tracking.domain.archive import Checkpoint, Entry, Verification, verify
from services.tracking.domain.archive_ranges import (
    PositionRange,
    RangeVerification,
    checkpoints_of,
    join,
    split,
)
from tests.unit.tracking.archive_samples import ARCHIVE, CHECKPOINTS, KEY, flip, sign_at

PUBLIC_KEY = KEY.public_key()


def in_ranges(
    entries: list[Entry], checkpoints: list[Checkpoint], parts: int
) -> Verification | None:
    """What the worker processes do, each over its own range of `entries`."""
    ranges = split(len(entries), parts)
    return join(
        [
            RangeVerification(
                span,
                verify(
                    entries[span.first - 1 : span.last],
                    checkpoints_of(ranges, k, checkpoints),
                    PUBLIC_KEY,
                    from_position=span.first,
                ),
                entries[span.first - 1].prev_hash if span.first <= len(entries) else None,
            )
            for k, span in enumerate(ranges)
        ]
    )


def test_the_ranges_cover_every_position_once() -> None:
    assert split(10, 3) == [PositionRange(1, 3), PositionRange(4, 6), PositionRange(7, 10)]
    assert split(2, 5) == [PositionRange(1, 1), PositionRange(2, 2)]
    for head, parts in ((1, 1), (48, 4), (1_000_003, 7)):
        ranges = split(head, parts)
        assert ranges[0].first == 1 and ranges[-1].last == head
        assert all(a.last + 1 == b.first for a, b in pairwise(ranges))


def test_each_checkpoint_is_compared_in_exactly_one_range() -> None:
    ranges = split(48, 3)  # 1..16, 17..32, 33..48
    empty_head = sign_at(ARCHIVE, 1)[0]
    checkpoints = [replace(empty_head, position=0), *CHECKPOINTS, replace(empty_head, position=60)]
    shares = [checkpoints_of(ranges, k, checkpoints) for k in range(3)]
    assert [[c.position for c in share] for share in shares] == [[0, 16], [32], [48, 60]]


@pytest.mark.parametrize("parts", [1, 2, 3, 4, 7])
def test_an_intact_archive_verifies_in_ranges_as_in_one_pass(parts: int) -> None:
    whole = verify(ARCHIVE, CHECKPOINTS, PUBLIC_KEY)
    assert whole.ok
    assert in_ranges(ARCHIVE, CHECKPOINTS, parts) == whole


def _swap(entries: list[Entry], a: int, b: int) -> list[Entry]:
    swapped = list(entries)
    swapped[a] = replace(entries[b], position=a + 1)
    swapped[b] = replace(entries[a], position=b + 1)
    return swapped


BROKEN = {
    "a byte changed in the first range": lambda e: [
        *e[:4], replace(e[4], body=flip(e[4].body, 10)), *e[5:]
    ],
    "a byte changed in a range's first entry": lambda e: [
        *e[:16], replace(e[16], body=flip(e[16].body, 10)), *e[17:]
    ],
    "a range's last entry removed": lambda e: [
        *e[:15], *(replace(x, position=x.position - 1) for x in e[16:])
    ],
    "the first entry of a range inserted again": lambda e: [
        *e[:16], e[15], *(replace(x, position=x.position + 1) for x in e[16:])
    ][:48],
    "two entries swapped across ranges": lambda e: _swap(e, 15, 16),
    "the last entry removed": lambda e: e[:-1],
}  # fmt: skip


@pytest.mark.parametrize("tampering", list(BROKEN), ids=list(BROKEN))
def test_a_broken_archive_is_left_to_the_one_pass_walk(tampering: str) -> None:
    entries = BROKEN[tampering](list(ARCHIVE))
    assert not verify(entries, CHECKPOINTS, PUBLIC_KEY).ok
    assert in_ranges(entries, CHECKPOINTS, 3) is None


def test_a_forged_checkpoint_is_left_to_the_one_pass_walk() -> None:
    forged = [*CHECKPOINTS[:2], replace(CHECKPOINTS[2], signature=bytes(64))]
    assert in_ranges(ARCHIVE, forged, 3) is None
