"""Verifying the archive in one pass, and naming the first thing that is wrong.

The walk keeps the expected position x and the chain's hash at x-1 and x-2. An entry is
accepted when it is labelled x, links to the hash at x-1 and its content hashes to its
stored hash; the first entry that is not is classified by `archive_breaks.classify_break`,
with one entry of look-ahead.

Checkpoints: each signature is checked first (bad_signature at the checkpoint's position).
During the walk the chain's hash at a signed position must equal the signed head; if not,
and the next entry shows a more specific break at that position, that is reported,
otherwise checkpoint_mismatch: the only trace of an archive whose later hashes were all
recomputed. A checkpoint beyond the last entry means the tail was cut: truncated at the
first missing position. Of all problems, the one at the lowest position is reported.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.tracking.domain.archive_breaks import (
    Problem,
    classify_break,
    count_entries,
    short_hash,
)
from services.tracking.domain.archive_chain import GENESIS, Entry
from services.tracking.domain.archive_checkpoints import Checkpoint, key_id, signature_valid


@dataclass(frozen=True, slots=True)
class Verification:
    """The outcome of `verify`. `head_position` and `head_hash` are those of the last entry
    that chained correctly; `verified_checkpoints` those whose signed head matched."""

    ok: bool
    entries_checked: int
    head_position: int
    head_hash: bytes
    checkpoints_checked: int
    first_problem: Problem | None
    verified_checkpoints: tuple[Checkpoint, ...] = ()
    signatures_checked: bool = True


@dataclass(slots=True)
class _Walk:
    position: int  # the last accepted position
    head: bytes  # the chain's hash there
    before: bytes | None = None  # the chain's hash at the position before it
    matched: list[Checkpoint] = field(default_factory=list)
    compared: int = 0
    problem: Problem | None = None


def verify(
    entries: Iterable[Entry],
    checkpoints: Sequence[Checkpoint],
    public_key: Ed25519PublicKey | None,
    *,
    from_position: int = 1,
) -> Verification:
    """Check the chain and the checkpoints in one pass over `entries` (in archive order).

    Without `public_key` the checkpoints are compared but their signatures are not checked.
    `from_position` > 1 verifies a partial export: its first entry's link is taken on trust,
    which only a checkpoint at or after it can confirm.
    """
    authentic, signature_problem = _authenticate(checkpoints, public_key)
    # Checkpoints before a partial export's first entry cannot be checked; the one just
    # before it can, and it is what vouches for the link taken on trust.
    due = sorted(
        (c for c in authentic if c.position >= from_position - 1), key=lambda c: c.position
    )
    walk = _walk(iter(entries), due, from_position)
    candidates = [p for p in (signature_problem, walk.problem) if p is not None]
    problem = min(candidates, key=lambda p: p.position, default=None)
    return Verification(
        ok=problem is None,
        entries_checked=walk.position - (from_position - 1),
        head_position=walk.position,
        head_hash=walk.head,
        checkpoints_checked=walk.compared,
        first_problem=problem,
        verified_checkpoints=tuple(walk.matched),
        signatures_checked=public_key is not None,
    )


def _authenticate(
    checkpoints: Sequence[Checkpoint], public_key: Ed25519PublicKey | None
) -> tuple[list[Checkpoint], Problem | None]:
    if public_key is None:
        return list(checkpoints), None
    expected_key = key_id(public_key)
    authentic: list[Checkpoint] = []
    forged: list[Checkpoint] = []
    for checkpoint in checkpoints:
        (authentic if signature_valid(checkpoint, public_key) else forged).append(checkpoint)
    if not forged:
        return authentic, None
    first = min(forged, key=lambda c: c.position)
    named = "" if first.key_id == expected_key else f" (it names key {first.key_id})"
    detail = (
        f"the checkpoint of position {first.position} signed at {first.signed_at} does not "
        f"verify under public key {expected_key}{named}"
    )
    return authentic, Problem(first.position, "bad_signature", detail)


def _walk(iterator: Iterator[Entry], due: list[Checkpoint], from_position: int) -> _Walk:
    head = GENESIS
    if from_position > 1:  # a partial export: trust the first link, checkpoints judge it
        first = next(iterator, None)
        head = first.prev_hash if first is not None else GENESIS
        iterator = chain([first] if first is not None else [], iterator)
    walk = _Walk(position=from_position - 1, head=head)
    sha256, index = hashlib.sha256, 0
    while index < len(due) and due[index].position == walk.position:  # e.g. the empty head
        walk.problem = _compare(walk, due[index], iterator)
        index += 1
        if walk.problem:
            return walk
    next_due = due[index].position if index < len(due) else -1
    position, before = walk.position, walk.before
    # The hot loop: locals only, one SHA-256 per entry, classification only on a break.
    for entry in iterator:
        position += 1
        if (
            entry.position != position
            or entry.prev_hash != head
            or sha256(head + entry.body).digest() != entry.hash
        ):
            walk.position, walk.head, walk.before = position - 1, head, before
            walk.problem = classify_break(entry, next(iterator, None), position, head, before)
            return walk
        before, head = head, entry.hash
        while position == next_due:
            walk.position, walk.head, walk.before = position, head, before
            walk.problem = _compare(walk, due[index], iterator)
            index += 1
            next_due = due[index].position if index < len(due) else -1
            if walk.problem:
                return walk
    walk.position, walk.head, walk.before = position, head, before
    if index < len(due):
        walk.problem = _truncated(position, due[-1])
    return walk


def _compare(walk: _Walk, checkpoint: Checkpoint, rest: Iterator[Entry]) -> Problem | None:
    walk.compared += 1
    if checkpoint.head_hash == walk.head:
        walk.matched.append(checkpoint)
        return None
    position, following = walk.position, next(rest, None)
    signed = f"the checkpoint signed at {checkpoint.signed_at}"
    says = (
        f"{signed} says {short_hash(checkpoint.head_hash)}, the chain has {short_hash(walk.head)}"
    )
    if following is not None and following.prev_hash != walk.head:
        local = classify_break(following, next(rest, None), position + 1, walk.head, walk.before)
        if local.position <= position:
            return Problem(local.position, local.kind, f"{local.detail}; and {says}")
        hint = "the next entry does not link to it either: this entry was probably rewritten"
    else:
        previous = walk.matched[-1].position if walk.matched else 0
        hint = (
            "yet every entry links to the one before: either an entry in positions "
            f"{previous + 1}..{position} was changed, removed, inserted or reordered and every "
            "later hash recomputed, or the checkpoint was signed over another history"
        )
    return Problem(position, "checkpoint_mismatch", f"at position {position} {says}: {hint}")


def _truncated(position: int, last: Checkpoint) -> Problem:
    detail = (
        f"the archive ends at position {position} but the checkpoint signed at "
        f"{last.signed_at} covers position {last.position}: the last "
        f"{count_entries(last.position - position)} ({position + 1}..{last.position}) were cut"
    )
    return Problem(position + 1, "truncated", detail)
