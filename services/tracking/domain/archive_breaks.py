"""Naming a break in the archive's chain: what happened at the first entry that does not
chain, judged from the entries around it.

The walk (`archive_verification`) knows the expected position x, the chain's hash at x-1
(`head`) and at x-2 (`before`); it hands over the first entry that is not labelled x, does
not link to `head` or whose content does not hash to its stored hash, with the entry after
it (`following`). The rules, in order:

1. Its content does not hash to its stored hash: if `following` links to `head`, the entry
   is an intruder (inserted at x); otherwise it was changed (changed at x; the detail says
   whether the content, the stored hash or the link was altered).
2. Only its position label, which is not hashed, differs: changed at x.
3. It does not link to `head`:
   - it is a copy of the entry at x-1: inserted at x (a duplicate);
   - it links to `before`: the entry accepted at x-1 was a self-consistent forgery spliced
     in after x-2, and the real chain goes on without it: inserted at x-1;
   - `following` links to `head` and its hash is what this entry links to: the two are in
     each other's place: reordered at x;
   - `following` links to `head`: this entry does not belong: inserted at x;
   - otherwise it links to a hash that is not in the archive: removed at x (how many, when
     the position labels jump; when they do not, the detail says the evidence fits a
     removal with renumbering as well as a rewrite of x-1 with its own hash recomputed).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from services.tracking.domain.archive_chain import Entry

ProblemKind = Literal[
    "changed",
    "removed",
    "inserted",
    "reordered",
    "bad_signature",
    "checkpoint_mismatch",
    "truncated",
]


@dataclass(frozen=True, slots=True)
class Problem:
    """The first thing wrong with the archive: where, what kind, and the evidence."""

    position: int
    kind: ProblemKind
    detail: str


def classify_break(
    entry: Entry, following: Entry | None, position: int, head: bytes, before: bytes | None
) -> Problem:
    """What happened at `entry`, expected at `position` after `head` (the module's rules)."""
    own = hashlib.sha256(entry.prev_hash + entry.body).digest()
    rejoins = following is not None and following.prev_hash == head
    label = "" if entry.position == position else f" (labelled {entry.position})"
    if own != entry.hash:
        if rejoins:
            return Problem(position, "inserted", _intruder(position, label))
        return Problem(position, "changed", _changed(entry, following, position, head, own))
    if entry.prev_hash == head:
        detail = f"the entry at position {position} is labelled {entry.position}; its content "
        return Problem(position, "changed", detail + "and links are intact: the label changed")
    if entry.hash == head and entry.prev_hash == before:
        detail = f"the entry at position {position}{label} is a copy of the one before it"
        return Problem(position, "inserted", detail)
    if before is not None and entry.prev_hash == before:
        detail = (
            f"the entry at position {position}{label} links to position {position - 2}, "
            f"skipping the entry at {position - 1}, which therefore does not belong to the chain"
        )
        return Problem(position - 1, "inserted", detail)
    if rejoins and following is not None and following.hash == entry.prev_hash:
        detail = (
            f"the entries at positions {position} and {position + 1} are in each other's "
            f"place: the second links to position {position - 1} and the first to the second"
        )
        return Problem(position, "reordered", detail)
    if rejoins:
        return Problem(position, "inserted", _intruder(position, label))
    return Problem(position, "removed", _removed(entry, following, position, head))


def _changed(entry: Entry, following: Entry | None, position: int, head: bytes, own: bytes) -> str:
    where = f"the entry at position {position}"
    if entry.prev_hash != head and hashlib.sha256(head + entry.body).digest() == entry.hash:
        return (
            f"{where}: its link was altered ({short_hash(entry.prev_hash)}, not {short_hash(head)})"
        )
    if following is not None and following.prev_hash == own:
        return f"{where}: its stored hash was altered; its content matches the next entry's link"
    return (
        f"{where}: its content does not match its stored hash (expected "
        f"{short_hash(entry.hash)}, the content hashes to {short_hash(own)})"
    )


def _intruder(position: int, label: str) -> str:
    return (
        f"the entry at position {position}{label} does not belong to the chain: "
        f"the entry after it links directly to position {position - 1}"
    )


def _removed(entry: Entry, following: Entry | None, position: int, head: bytes) -> str:
    links = (
        f"the entry labelled {entry.position} links to {short_hash(entry.prev_hash)}, which is not "
        f"the hash of position {position - 1} ({short_hash(head)}) nor of any entry read"
    )
    missing = entry.position - position
    if missing > 0:
        return f"{count_entries(missing)} missing from position {position}: {links}"
    later = "" if following is not None else " (it is the last entry: nothing later to compare)"
    return (
        f"an entry is missing before the one at position {position} and later positions were "
        f"renumbered, or the entry at {position - 1} was rewritten with its own hash "
        f"recomputed: {links}{later}"
    )


def count_entries(entries: int) -> str:
    """How many entries, in words: "1 entry", "3 entries"."""
    return f"{entries} entr{'y' if entries == 1 else 'ies'}"


def short_hash(digest: bytes) -> str:
    """The first 12 hex digits of a hash, enough to tell hashes apart in a message."""
    return digest.hex()[:12] + "…"
