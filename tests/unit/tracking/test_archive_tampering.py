"""What an auditor who distrusts the operators relies on: any change, removal, insertion or
reordering of archived events is found, named and located; a rewrite that recomputes every
later hash is caught by a signed checkpoint; a partial export is checked from its anchor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from services.tracking.domain.archive import (
    GENESIS,
    Checkpoint,
    Entry,
    canonical_bytes,
    chain_hash,
    generate_private_key,
    sign_checkpoint,
    verify,
)
from tests.unit.tracking.archive_samples import (
    ARCHIVE,
    CHECKPOINTS,
    KEY,
    SIGNED_AT,
    build_chain,
    flip,
    rewritten_from,
    sign_at,
)

Tampering = Callable[[list[Entry], list[Checkpoint]], tuple[list[Entry], list[Checkpoint]]]


def renumbered(entries: list[Entry]) -> list[Entry]:
    return [replace(entry, position=i) for i, entry in enumerate(entries, 1)]


def forged(after: Entry, position: int) -> Entry:
    """A self-consistent entry chained onto `after`: all a forger with table access needs."""
    body = canonical_bytes({"specversion": "1.0", "id": "forged", "subject": "req-1", "data": {}})
    return Entry(position, after.hash, chain_hash(after.hash, body), body)


def at(index: int, entry: Entry) -> Callable[[list[Entry]], list[Entry]]:
    return lambda e: [*e[:index], entry, *e[index:]]


def entries_only(change: Callable[[list[Entry]], list[Entry]]) -> Tampering:
    return lambda entries, checkpoints: (change(list(entries)), checkpoints)


def swapped(first: int) -> Callable[[list[Entry]], list[Entry]]:
    i = first - 1
    return lambda e: [*e[:i], e[i + 1], e[i], *e[i + 2 :]]


def substituted(position: int, entry: Entry) -> Callable[[list[Entry]], list[Entry]]:
    i = position - 1
    return lambda e: [*e[:i], entry, *e[i + 1 :]]


def checkpoint_replaced(checkpoint: Checkpoint) -> Tampering:
    def tamper(
        entries: list[Entry], checkpoints: list[Checkpoint]
    ) -> tuple[list[Entry], list[Checkpoint]]:
        kept = [c for c in checkpoints if c.position != checkpoint.position]
        return entries, [*kept, checkpoint]

    return tamper


TAMPERINGS: list[tuple[str, Tampering, str, int]] = [
    (
        "one byte of a body",
        entries_only(substituted(20, replace(ARCHIVE[19], body=flip(ARCHIVE[19].body, 40)))),
        "changed",
        20,
    ),
    (
        "one byte of the last body",
        entries_only(substituted(48, replace(ARCHIVE[47], body=flip(ARCHIVE[47].body, 9)))),
        "changed",
        48,
    ),
    (
        "one byte of a stored hash",
        entries_only(substituted(20, replace(ARCHIVE[19], hash=flip(ARCHIVE[19].hash, 0)))),
        "changed",
        20,
    ),
    (
        "one byte of a link",
        entries_only(
            substituted(20, replace(ARCHIVE[19], prev_hash=flip(ARCHIVE[19].prev_hash, 5)))
        ),
        "changed",
        20,
    ),
    (
        "a position label",
        entries_only(substituted(20, replace(ARCHIVE[19], position=21))),
        "changed",
        20,
    ),
    ("an entry deleted", entries_only(lambda e: e[:19] + e[20:]), "removed", 20),
    ("three entries deleted", entries_only(lambda e: e[:19] + e[22:]), "removed", 20),
    ("the first entry deleted", entries_only(lambda e: e[1:]), "removed", 1),
    (
        "an entry deleted, renumbered",
        entries_only(lambda e: renumbered(e[:19] + e[20:])),
        "removed",
        20,
    ),
    (
        "an entry inserted, renumbered",
        entries_only(lambda e: renumbered(at(19, forged(e[18], 20))(e))),
        "inserted",
        20,
    ),
    (
        "an entry inserted, position repeated",
        entries_only(at(19, forged(ARCHIVE[18], 20))),
        "inserted",
        20,
    ),
    (
        "an entry inserted first",
        entries_only(lambda e: renumbered([forged(Entry(0, b"", GENESIS, b""), 1), *e])),
        "inserted",
        1,
    ),
    (
        "an entry inserted at a signed position",
        entries_only(lambda e: renumbered(at(15, forged(e[14], 16))(e))),
        "inserted",
        16,
    ),
    (
        "an unchained entry inserted",
        entries_only(at(19, forged(ARCHIVE[0], 20))),
        "inserted",
        20,
    ),
    ("an entry duplicated", entries_only(lambda e: renumbered(at(19, e[18])(e))), "inserted", 20),
    ("two entries swapped", entries_only(swapped(20)), "reordered", 20),
    (
        "two entries swapped, renumbered",
        entries_only(lambda e: renumbered(swapped(20)(e))),
        "reordered",
        20,
    ),
    ("the first two swapped", entries_only(swapped(1)), "reordered", 1),
    ("the last two swapped", entries_only(swapped(47)), "reordered", 47),
    ("the signed tail cut off", entries_only(lambda e: e[:45]), "truncated", 46),
    ("everything cut off", entries_only(lambda e: []), "truncated", 1),
    (
        "a forged checkpoint signature",
        checkpoint_replaced(replace(CHECKPOINTS[1], signature=bytes(64))),
        "bad_signature",
        32,
    ),
    (
        "a checkpoint signed by another key",
        lambda e, c: (e, [*c[:1], *sign_at(e, 32, key=generate_private_key()), c[2]]),
        "bad_signature",
        32,
    ),
    (
        "a checkpoint's signed time changed",
        checkpoint_replaced(replace(CHECKPOINTS[0], signed_at="2026-01-01T00:00:00+00:00")),
        "bad_signature",
        16,
    ),
    (
        "a checkpoint not of this chain",
        lambda e, c: (e, [*c, sign_checkpoint(KEY, 40, bytes(32), SIGNED_AT)]),
        "checkpoint_mismatch",
        40,
    ),
    (
        "a body changed, later hashes recomputed",
        entries_only(rewritten_from(20)),
        "checkpoint_mismatch",
        32,
    ),
    (
        "the first body changed, all hashes recomputed",
        entries_only(rewritten_from(1)),
        "checkpoint_mismatch",
        16,
    ),
]


def test_an_untouched_archive_verifies_with_every_checkpoint() -> None:
    result = verify(ARCHIVE, CHECKPOINTS, KEY.public_key())

    assert result.ok and result.first_problem is None
    assert (result.entries_checked, result.head_position) == (48, 48)
    assert result.head_hash == ARCHIVE[-1].hash
    assert result.checkpoints_checked == 3
    assert [c.position for c in result.verified_checkpoints] == [16, 32, 48]


@pytest.mark.parametrize(
    ("tampering", "kind", "position"),
    [pytest.param(t, k, p, id=name) for name, t, k, p in TAMPERINGS],
)
def test_each_tampering_is_found_named_and_located(
    tampering: Tampering, kind: str, position: int
) -> None:
    entries, checkpoints = tampering(list(ARCHIVE), list(CHECKPOINTS))

    result = verify(entries, checkpoints, KEY.public_key())

    assert not result.ok
    assert result.first_problem is not None
    assert (result.first_problem.kind, result.first_problem.position) == (kind, position), (
        result.first_problem.detail
    )


def test_a_rewrite_with_recomputed_hashes_is_explained_and_narrowed_to_a_range() -> None:
    problem = verify(rewritten_from(20)(ARCHIVE), CHECKPOINTS, KEY.public_key()).first_problem

    assert problem is not None
    assert "recomputed" in problem.detail and "17..32" in problem.detail


def test_a_deletion_says_what_was_expected_and_found() -> None:
    problem = verify(ARCHIVE[:19] + ARCHIVE[20:], CHECKPOINTS, KEY.public_key()).first_problem

    assert problem is not None
    assert "1 entry missing from position 20" in problem.detail
    assert ARCHIVE[20].prev_hash.hex()[:12] in problem.detail  # what entry 21 links to
    assert ARCHIVE[18].hash.hex()[:12] in problem.detail  # what it should link to


def test_the_earliest_of_several_problems_is_reported() -> None:
    entries = swapped(40)(
        substituted(10, replace(ARCHIVE[9], body=flip(ARCHIVE[9].body, 3)))(ARCHIVE)
    )

    problem = verify(entries, CHECKPOINTS, KEY.public_key()).first_problem

    assert problem is not None and (problem.kind, problem.position) == ("changed", 10)


def test_a_partial_export_verifies_from_its_first_position_and_its_anchor_is_checked() -> None:
    tail = ARCHIVE[20:]
    forged_anchor = build_chain([b"forged history"] + [e.body for e in ARCHIVE[1:]])[20:]

    assert verify(tail, CHECKPOINTS, KEY.public_key(), from_position=21).ok
    problem = verify(forged_anchor, CHECKPOINTS, KEY.public_key(), from_position=21).first_problem
    assert problem is not None and (problem.kind, problem.position) == ("checkpoint_mismatch", 32)
    assert verify(tail, CHECKPOINTS, KEY.public_key()).first_problem.kind == "removed"  # type: ignore[union-attr]


def test_a_long_archive_verifies_in_one_pass_and_a_change_deep_inside_is_located() -> None:
    entries = build_chain([b'{"n":%d}' % n for n in range(100_000)])
    checkpoints = sign_at(entries, 50_000, 100_000)
    tampered = list(entries)
    tampered[73_209] = replace(tampered[73_209], body=b'{"n":1}')

    clean = verify(iter(entries), checkpoints, KEY.public_key())
    problem = verify(iter(tampered), checkpoints, KEY.public_key()).first_problem

    assert clean.ok and clean.entries_checked == 100_000
    assert problem is not None and (problem.kind, problem.position) == ("changed", 73_210)
