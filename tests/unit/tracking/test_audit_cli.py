"""The auditor's offline tool: an exported file that verifies says OK, one changed byte is
named with its position, and any request can be seen as it stood at any moment."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import zip_longest
from pathlib import Path

import httpx
import orjson
import pytest

from services.tracking.audit_cli import main
from services.tracking.domain.archive import (
    GENESIS,
    Entry,
    canonical_bytes,
    chain_hash,
    checkpoint_to_document,
    entry_to_line,
    generate_private_key,
    public_key_pem,
    sign_checkpoint,
)
from services.tracking.domain.history import replay, state_as_of
from services.tracking.domain.view import fold
from shared.events.catalogue import (
    Assignment,
    MeasureRef,
    Payload,
    RequestClosed,
    RequestExecuted,
    RequestReceived,
    RequestRouted,
    new_event,
    read_payload,
)
from shared.events.envelope import CloudEvent
from shared.events.vocabulary import ExecutionResult, Outcome
from shared.request.model import EXAMPLE_REQUEST, RequestDetails

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
KEY = generate_private_key()
DETAILS = RequestDetails.model_validate(EXAMPLE_REQUEST)


def history(request_id: str, number: int, *, closed: bool) -> list[Payload]:
    assignment = Assignment(
        assignment_id=f"{request_id}-a",
        office_id="bjt-subotica",
        office_name="Basic Public Prosecution Office in Subotica",
        measures=[MeasureRef(index=0, type="search_and_seizure", place="Subotica")],
        rule="territorial_basic",
        basis="seat of the measure",
    )
    payloads: list[Payload] = [
        RequestReceived(
            request_id=request_id,
            domestic_reference=f"MLA-2026-{number:04d}",
            received_at=T0,
            details=DETAILS,
        ),
        RequestRouted(
            request_id=request_id, assignments=[assignment], directory_version=1, trace=[]
        ),
        RequestExecuted(
            request_id=request_id,
            assignment_id=assignment.assignment_id,
            office_id=assignment.office_id,
            result=ExecutionResult.EXECUTED,
            outstanding=0,
        ),
    ]
    if closed:
        payloads.append(RequestClosed(request_id=request_id, outcome=Outcome.COMPLETED))
    return payloads


# req-1 runs to closure (its last event, at position 7, at T0 + 6h); req-2 stops executed.
EVENTS: list[CloudEvent] = [
    new_event(payload, source="/mla/routing").model_copy(
        update={"time": T0 + timedelta(hours=hour)}
    )
    for hour, payload in enumerate(
        p
        for pair in zip_longest(history("req-1", 1, closed=True), history("req-2", 2, closed=False))
        for p in pair
        if p is not None
    )
]


def chain(events: list[CloudEvent]) -> list[Entry]:
    entries, prev = [], GENESIS
    for position, event in enumerate(events, 1):
        body = canonical_bytes(event.model_dump(mode="json"))
        entries.append(Entry(position, prev, chain_hash(prev, body), body))
        prev = entries[-1].hash
    return entries


ENTRIES = chain(EVENTS)


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """An export as `mla-audit export` leaves it: the file, its checkpoints, the key."""
    path = tmp_path / "archive.ndjson"
    path.write_bytes(b"".join(entry_to_line(entry) for entry in ENTRIES))
    checkpoints = [
        sign_checkpoint(KEY, p, ENTRIES[p - 1].hash, "2026-03-03T00:00:00+00:00") for p in (4, 7)
    ]
    (tmp_path / "archive.ndjson.checkpoints.json").write_bytes(
        orjson.dumps([checkpoint_to_document(c) for c in checkpoints])
    )
    (tmp_path / "archive.ndjson.pub.pem").write_bytes(public_key_pem(KEY))
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_an_untouched_export_verifies_ok(export: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "verify", str(export))

    assert code == 0
    assert "OK: the chain is intact and signed up to its head, position 7" in out
    assert "entries checked: 7" in out
    assert "checkpoint position 4" in out and "checkpoint position 7" in out
    assert "entries/s" in out


def test_one_changed_byte_fails_verification_and_is_located(
    export: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = export.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b"Office in Subotica", b"Office in Subotice", 1)  # one byte
    export.write_bytes(b"".join(lines))

    code, out, _ = run(capsys, "verify", str(export))

    assert code == 1
    assert "FAILED at position 3: changed" in out


def test_a_garbled_line_is_named_by_its_number(
    export: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = export.read_bytes().splitlines(keepends=True)
    lines[4] = lines[4][:50] + b"\n"
    export.write_bytes(b"".join(lines))

    code, out, _ = run(capsys, "verify", str(export))

    assert code == 1
    assert "FAILED at position 5: changed: line 5 is not an archive entry" in out


def test_checkpoints_under_another_key_fail(
    export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "other.pem").write_bytes(public_key_pem(generate_private_key()))

    code, out, _ = run(capsys, "verify", str(export), "--public-key", str(tmp_path / "other.pem"))

    assert code == 1
    assert "FAILED at position 4: bad_signature" in out


def test_without_a_key_the_output_warns_that_signatures_were_not_checked(
    export: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export.with_name("archive.ndjson.pub.pem").unlink()

    code, out, _ = run(capsys, "verify", str(export))

    assert code == 0
    assert "signatures are NOT checked" in out


def test_a_missing_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "verify", str(tmp_path / "nowhere.ndjson"))

    assert code == 2
    assert "nowhere.ndjson" in err and "No such file" in err


def test_show_before_closure_gives_the_earlier_status(
    export: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before_closure = (T0 + timedelta(hours=5, minutes=59)).isoformat()

    code, out, _ = run(capsys, "show", str(export), "req-1", "--as-of", before_closure)

    assert code == 0
    assert "status:" in out and "executed" in out and "closed" not in out
    assert out.count("mla.request.") == 3  # received, routed, executed; not the closure


def test_show_at_the_end_gives_the_closed_request_and_its_whole_timeline(
    export: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "show", str(export), "req-1")

    assert code == 0
    assert "closed" in out and "completed" in out and "MLA-2026-0001" in out
    assert ENTRIES[6].hash.hex()[:12] in out


def test_show_of_an_unknown_request_says_so(
    export: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "show", str(export), "req-9")

    assert code == 1
    assert "req-9 has no event" in out


def test_replay_counts_requests_per_status(
    export: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "replay", str(export))
    _, earlier, _ = run(capsys, "replay", str(export), "--until-position", "4")

    assert code == 0
    assert "requests: 2" in out and "events applied: 7" in out
    assert "closed           1" in out and "executed         1" in out
    assert "routed           2" in earlier


def test_replay_as_json_gives_one_view_per_line(
    export: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "replay", str(export), "--json")

    views = [orjson.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [(v["request_id"], v["status"]) for v in views] == [
        ("req-1", "closed"),
        ("req-2", "executed"),
    ]
    assert "requests: 2" in err


def test_replaying_the_archive_gives_the_views_of_the_live_fold() -> None:
    lines = [entry_to_line(entry) for entry in ENTRIES]

    replayed = replay(lines)

    for request_id in ("req-1", "req-2"):
        own = [(read_payload(e), e.time) for e in EVENTS if e.subject == request_id]
        assert replayed.views[request_id] == fold(own)


def test_as_of_a_position_and_as_of_a_moment_agree() -> None:
    by_position, timeline = state_as_of(ENTRIES, "req-1", position=4)
    by_moment, _ = state_as_of(ENTRIES, "req-1", at=T0 + timedelta(hours=3))

    assert by_position == by_moment
    assert by_position is not None and by_position.status == "routed"
    assert [item["position"] for item in timeline] == [1, 3]


def test_export_writes_what_verify_accepts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    checkpoint = sign_checkpoint(KEY, 7, ENTRIES[6].hash, "2026-03-03T00:00:00+00:00")
    answers: dict[str, Callable[[httpx.Request], httpx.Response]] = {
        "/v1/audit/checkpoints": lambda r: httpx.Response(
            200, json=[checkpoint_to_document(checkpoint)]
        ),
        "/v1/audit/public-key": lambda r: httpx.Response(200, content=public_key_pem(KEY)),
        "/v1/audit/events": lambda r: httpx.Response(
            200,
            content=b"".join(
                entry_to_line(e)
                for e in ENTRIES
                if e.position >= int(r.url.params["from_position"])
            ),
        ),
    }
    transport = httpx.MockTransport(lambda request: answers[request.url.path](request))
    real_client = httpx.Client
    monkeypatch.setattr(httpx, "Client", lambda **kw: real_client(transport=transport, **kw))
    out = tmp_path / "export.ndjson"

    exported, printed, _ = run(capsys, "export", "--out", str(out))
    verified, report, _ = run(capsys, "verify", str(out))

    assert (exported, verified) == (0, 0)
    assert "7 entries from position 1" in printed
    assert "OK" in report


def test_export_from_an_unreachable_server_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys, "export", "--url", "http://127.0.0.1:9", "--out", str(tmp_path / "x.ndjson")
    )

    assert code == 2
    assert "cannot export from http://127.0.0.1:9" in err
    assert not (tmp_path / "x.ndjson").exists()
