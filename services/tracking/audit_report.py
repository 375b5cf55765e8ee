"""What mla-audit prints: a verification, a replay, one request's state and timeline."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Sequence
from typing import Any

import orjson

from services.tracking.domain.archive import Checkpoint, Problem, Verification
from services.tracking.domain.history import Replay
from services.tracking.domain.view import RequestView, to_document


def print_verification(
    result: Verification,
    checkpoints: Sequence[Checkpoint],
    garbled: tuple[int, str] | None,
    *,
    elapsed: float,
) -> None:
    """The checks made, the rate, and OK or the first problem."""
    if not result.signatures_checked:
        print("WARNING: no public key: checkpoint signatures are NOT checked")
    for checkpoint in result.verified_checkpoints:
        print(
            f"checkpoint position {checkpoint.position} signed at {checkpoint.signed_at} "
            f"by key {checkpoint.key_id}: head {checkpoint.head_hash.hex()[:16]} matches"
        )
    print(f"checkpoints: {len(checkpoints)} given, {result.checkpoints_checked} checked")
    print(
        f"entries checked: {result.entries_checked}, head: position {result.head_position} "
        f"hash {result.head_hash.hex()}"
    )
    rate = result.entries_checked / elapsed if elapsed > 0 else 0.0
    print(f"rate: {rate:,.0f} entries/s ({elapsed:.2f} s)")
    problem = _first_problem(result, garbled)
    if problem is None:
        print(f"OK: {_coverage(result)}")
    else:
        print(f"FAILED at position {problem.position}: {problem.kind}: {problem.detail}")


def _first_problem(result: Verification, garbled: tuple[int, str] | None) -> Problem | None:
    # Reading stopped at the garbled line, so anything the walk found at or after it
    # (the checkpoints it never reached: "truncated") is a consequence, not the cause.
    if garbled is None:
        return result.first_problem
    position = result.head_position + 1
    found = result.first_problem
    if found is not None and found.position < position:
        return found
    number, why = garbled
    return Problem(position, "changed", f"line {number} is not an archive entry: {why}")


def _coverage(result: Verification) -> str:
    signed = max((c.position for c in result.verified_checkpoints), default=0)
    if signed == 0:
        return (
            "the chain is intact, but no checkpoint covers it: an archive rewritten with every "
            "hash recomputed would pass too"
        )
    if signed < result.head_position:
        return (
            f"the chain is intact and signed up to position {signed}; positions "
            f"{signed + 1}..{result.head_position} are not yet covered by a checkpoint"
        )
    return f"the chain is intact and signed up to its head, position {signed}"


def print_replay(outcome: Replay, *, as_json: bool, limit: str) -> None:
    """Counts per status (to stderr with `as_json`, stdout then holding the views)."""
    summary = sys.stderr if as_json else sys.stdout
    if as_json:
        for request_id in sorted(outcome.views):
            sys.stdout.write(orjson.dumps(to_document(outcome.views[request_id])).decode())
            sys.stdout.write("\n")
    print(f"requests: {len(outcome.views)} ({limit})", file=summary)
    print(f"events applied: {outcome.events_applied}", file=summary)
    counts = Counter(view.status for view in outcome.views.values())
    for status, count in sorted(counts.items()):
        print(f"  {status:<16} {count}", file=summary)
    for position, why in outcome.unreadable:
        print(f"unreadable event at position {position}: {why}", file=summary)


def print_state(view: RequestView, timeline: list[dict[str, Any]], *, limit: str) -> None:
    """The request's state and its timeline."""
    print(f"request {view.request_id} ({limit})")
    for label, value in (
        ("status", view.status),
        ("domestic reference", view.domestic_reference),
        ("country", view.country),
        ("outcome", view.outcome),
        ("routing failure", view.routing_failure),
        ("offices", ", ".join(view.offices) or None),
        ("received at", view.received_at),
        ("routed at", view.routed_at),
        ("executed at", view.executed_at),
        ("closed at", view.closed_at),
    ):
        if value is not None:
            print(
                f"  {label + ':':<20} {value.isoformat() if hasattr(value, 'isoformat') else value}"
            )
    for assignment in view.assignments:
        result = assignment.result or "not reported"
        print(f"  assignment {assignment.assignment_id} -> {assignment.office_name}: {result}")
        for measure in assignment.measures:
            print(f"    {measure}")
    print("timeline:")
    for item in timeline:
        after = item.get("status") or f"not applied: {item.get('note')}"
        print(
            f"  {item['position']:>8}  {item['time']}  {item['type']:<36} "
            f"{item['hash'][:12]}  -> {after}"
        )
