"""What an auditor who distrusts the operators relies on: any change, removal, insertion or
reordering of archived events is found and located; a rewrite that recomputes every later
hash is caught by a signed checkpoint; an exported file verifies exactly as the archive."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.tracking.domain.archive import (
    GENESIS,
    ArchiveFormatError,
    Checkpoint,
    Entry,
    canonical_bytes,
    chain_hash,
    checkpoint_from_document,
    checkpoint_message,
    checkpoint_to_document,
    entry_from_line,
    entry_to_line,
    generate_private_key,
    key_id,
    load_private_key,
    load_public_key,
    private_key_pem,
    public_key_pem,
    sign_checkpoint,
    verify,
)
from shared.events.catalogue import (
    Assignment,
    DeadlineApproaching,
    MeasureRef,
    Payload,
    RequestClosed,
    RequestExecuted,
    RequestReceived,
    RequestRouted,
    new_event,
)
from shared.events.envelope import CloudEvent
from shared.events.vocabulary import ExecutionResult, Outcome
from shared.request.model import EXAMPLE_REQUEST, RequestDetails

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DETAILS = RequestDetails.model_validate(EXAMPLE_REQUEST)
KEY = generate_private_key()
SIGNED_AT = "2026-03-09T12:00:00+00:00"
SIGNED_POSITIONS = (16, 32, 48)


def lifecycle(number: int) -> list[Payload]:
    """One request from receipt to closure, with a deadline alert on the way (6 events)."""
    request_id = f"req-{number}"
    offices = [
        Assignment(
            assignment_id=f"{request_id}-a{i}",
            office_id=office,
            office_name=f"Public Prosecution Office {office}",
            measures=[MeasureRef(index=i, type="hearing_witness", place="Novi Sad")],
            rule="territorial_basic",
            basis="seat of the measure",
        )
        for i, office in enumerate(("bjt-novi-sad", "bjt-subotica"))
    ]
    return [
        RequestReceived(
            request_id=request_id,
            domestic_reference=f"MLA-2026-{number:04d}",
            received_at=T0,
            details=DETAILS,
        ),
        RequestRouted(request_id=request_id, assignments=offices, directory_version=1, trace=[]),
        DeadlineApproaching(
            request_id=request_id,
            deadline_id=f"{request_id}-d",
            kind="x",
            due=date(2026, 4, 1),
            basis="b",
        ),
        *(
            RequestExecuted(
                request_id=request_id,
                assignment_id=a.assignment_id,
                office_id=a.office_id,
                result=ExecutionResult.EXECUTED,
                outstanding=1 - i,
            )
            for i, a in enumerate(offices)
        ),
        RequestClosed(request_id=request_id, outcome=Outcome.COMPLETED),
    ]


def interleaved_events(requests: int = 8) -> list[CloudEvent]:
    """The events of several requests as they arrive: step by step, one hour apart."""
    histories = [lifecycle(number) for number in range(1, requests + 1)]
    payloads = [history[step] for step in range(6) for history in histories]
    return [
        new_event(payload, source="/mla/routing").model_copy(
            update={"time": T0 + timedelta(hours=i)}
        )
        for i, payload in enumerate(payloads)
    ]


def build_chain(bodies: list[bytes]) -> list[Entry]:
    entries, prev = [], GENESIS
    for position, body in enumerate(bodies, 1):
        entry = Entry(position, prev, chain_hash(prev, body), body)
        entries.append(entry)
        prev = entry.hash
    return entries


def sign_at(
    entries: list[Entry], *positions: int, key: Ed25519PrivateKey = KEY
) -> list[Checkpoint]:
    return [sign_checkpoint(key, p, entries[p - 1].hash, SIGNED_AT) for p in positions]


ARCHIVE = build_chain([canonical_bytes(e.model_dump(mode="json")) for e in interleaved_events()])
CHECKPOINTS = sign_at(ARCHIVE, *SIGNED_POSITIONS)

Tampering = Callable[[list[Entry], list[Checkpoint]], tuple[list[Entry], list[Checkpoint]]]


def renumbered(entries: list[Entry]) -> list[Entry]:
    return [replace(entry, position=i) for i, entry in enumerate(entries, 1)]


def flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


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


def rewritten_from(position: int) -> Callable[[list[Entry]], list[Entry]]:
    """Change one event and recompute every later hash: the chain itself stays consistent."""
    bodies = [entry.body for entry in ARCHIVE]
    bodies[position - 1] = flip(bodies[position - 1], 30)
    return lambda e: build_chain(bodies)


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


def test_a_checkpoint_from_another_key_names_both_keys() -> None:
    other = generate_private_key()

    problem = verify(ARCHIVE, sign_at(ARCHIVE, 48, key=other), KEY.public_key()).first_problem

    assert problem is not None and problem.kind == "bad_signature"
    assert (
        key_id(other.public_key()) in problem.detail and key_id(KEY.public_key()) in problem.detail
    )


def test_without_a_public_key_checkpoints_still_bind_the_chain_but_say_so() -> None:
    clean = verify(ARCHIVE, CHECKPOINTS, None)
    rewritten = verify(rewritten_from(3)(ARCHIVE), CHECKPOINTS, None)

    assert clean.ok and not clean.signatures_checked
    assert rewritten.first_problem is not None
    assert rewritten.first_problem.kind == "checkpoint_mismatch"


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


def test_an_exported_file_reads_back_to_the_same_entries_and_verification() -> None:
    lines = [entry_to_line(entry) for entry in ARCHIVE]

    back = [entry_from_line(line) for line in lines]

    assert back == ARCHIVE
    assert all(line.endswith(b"\n") and line.count(b"\n") == 1 for line in lines)
    assert verify(back, CHECKPOINTS, KEY.public_key()) == verify(
        ARCHIVE, CHECKPOINTS, KEY.public_key()
    )


def test_an_exported_line_reformatted_by_another_tool_still_verifies() -> None:
    document = orjson.loads(entry_to_line(ARCHIVE[4]))
    spaced = json.dumps(dict(reversed(document.items())), indent=None, separators=(", ", ": "))

    assert entry_from_line(spaced.encode()) == ARCHIVE[4]


def test_a_changed_value_in_an_exported_line_is_found_at_its_position() -> None:
    lines = [entry_to_line(entry) for entry in ARCHIVE]
    lines[7] = lines[7].replace(b"MLA-2026-0008", b"MLA-2026-0009")

    problem = verify(
        [entry_from_line(line) for line in lines], CHECKPOINTS, KEY.public_key()
    ).first_problem

    assert problem is not None and (problem.kind, problem.position) == ("changed", 8)


@pytest.mark.parametrize(
    "line",
    [
        b"",
        b"[]",
        b'{"position": 1}',
        b'{"position": 0, "prev_hash": "00", "hash": "00", "event": {}}',
        entry_to_line(ARCHIVE[0]).replace(b'"hash":"', b'"hash":"zz'),
    ],
)
def test_a_garbled_line_is_refused_with_a_reason(line: bytes) -> None:
    with pytest.raises(ArchiveFormatError):
        entry_from_line(line)


def test_the_canonical_form_ignores_key_order_whitespace_and_absent_attributes() -> None:
    event = interleaved_events(1)[0]
    from_wire = orjson.loads(event.to_bytes())
    with_nulls = {**event.model_dump(mode="json"), "correlationid": None}

    body = canonical_bytes(from_wire)

    assert body == canonical_bytes(dict(reversed(from_wire.items()))) == canonical_bytes(with_nulls)
    assert b" " not in body.split(b'"data"')[0] and b"null" not in body
    assert list(orjson.loads(body)) == sorted(from_wire)
    assert canonical_bytes(orjson.loads(body)) == body


def test_the_canonical_form_refuses_what_has_no_single_spelling() -> None:
    with pytest.raises(ArchiveFormatError):
        canonical_bytes({"time": T0})


def test_a_checkpoint_travels_as_json_and_still_verifies() -> None:
    checkpoint = CHECKPOINTS[1]

    back = checkpoint_from_document(orjson.loads(orjson.dumps(checkpoint_to_document(checkpoint))))

    assert back == checkpoint
    assert checkpoint_message(32, ARCHIVE[31].hash, SIGNED_AT).startswith(
        b"mla-archive-checkpoint/v1\n32\n"
    )
    with pytest.raises(ArchiveFormatError):
        checkpoint_from_document({**checkpoint_to_document(checkpoint), "head_hash": "abc"})


def test_keys_travel_as_pem_and_keep_their_id() -> None:
    private = load_private_key(private_key_pem(KEY))
    public = load_public_key(public_key_pem(KEY))

    assert key_id(public) == key_id(private.public_key()) == key_id(KEY.public_key())
    assert len(key_id(public)) == 16
    with pytest.raises(ArchiveFormatError):
        load_public_key(private_key_pem(KEY))


def test_a_long_archive_verifies_in_one_pass_and_a_change_deep_inside_is_located() -> None:
    entries = build_chain([b'{"n":%d}' % n for n in range(100_000)])
    checkpoints = sign_at(entries, 50_000, 100_000)
    tampered = list(entries)
    tampered[73_209] = replace(tampered[73_209], body=b'{"n":1}')

    clean = verify(iter(entries), checkpoints, KEY.public_key())
    problem = verify(iter(tampered), checkpoints, KEY.public_key()).first_problem

    assert clean.ok and clean.entries_checked == 100_000
    assert problem is not None and (problem.kind, problem.position) == ("changed", 73_210)
