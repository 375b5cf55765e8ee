"""The canonical form of an archived event and the exported line format: an exported file
verifies exactly as the archive, a line reformatted by another tool still verifies, a changed
value is found at its position, and a garbled line or an event with no single spelling is
refused."""

from __future__ import annotations

import json

import orjson
import pytest

from services.tracking.domain.archive import (
    ArchiveFormatError,
    canonical_bytes,
    entry_from_line,
    entry_to_line,
    verify,
)
from tests.unit.tracking.archive_samples import (
    ARCHIVE,
    CHECKPOINTS,
    KEY,
    T0,
    interleaved_events,
)


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
