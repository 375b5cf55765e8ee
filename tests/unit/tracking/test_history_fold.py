"""The service's replay reads its own archive without checking it again; what it folds must
be exactly what checking every event folds, and what the live projector kept."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import orjson

from services.tracking.domain.archive import GENESIS, Entry, canonical_bytes, chain_hash
from services.tracking.domain.archived_events import complete, read_event
from services.tracking.domain.history import Fold
from services.tracking.domain.view import fold, to_document
from shared.events.catalogue import (
    Assignment,
    AssignmentDeclined,
    DeadlineApproaching,
    MeasureRef,
    Payload,
    RequestClosed,
    RequestExecuted,
    RequestReceived,
    RequestRouted,
    RequestWithdrawn,
    RoutingFailed,
    RuleStep,
    new_event,
    read_payload,
)
from shared.events.envelope import CloudEvent
from shared.request.model import EXAMPLE_REQUEST, RequestDetails

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FULL = RequestDetails.model_validate(EXAMPLE_REQUEST)
# Few fields given: the canonical form drops every null, at every depth.
BARE = RequestDetails.model_validate(
    {
        "direction": "incoming",
        "channel": "ministry_of_justice",
        "legal_basis": "convention_1959",
        "requesting_authority": {"name": "Staatsanwaltschaft Wien", "country": "at",
                                 "reference": "12 St 3/26"},
        "summary_of_facts": "Fraud.",
        "offence_category": "economic_crime",
        "offences": [{"qualification": "StGB 146", "category": "economic_crime"}],
        "measures": [{"type": "hearing_witness", "place": "Beograd"}],
    }
)  # fmt: skip
TRACE = [RuleStep(rule="direction_check", matched=False, reason="incoming request")]


def assignment(request_id: str, office: str) -> Assignment:
    return Assignment(
        assignment_id=f"{request_id}-{office}",
        office_id=office,
        office_name=f"Office {office}",
        measures=[MeasureRef(index=0, type="hearing_witness", place="Beograd")],
        rule="territorial_basic",
        basis="seat of the measure",
    )


def lifecycles() -> list[Payload]:
    """Every event type, interleaved over three requests."""
    a, b, c = "req-a", "req-b", "req-c"
    return [
        RequestReceived(request_id=a, domestic_reference="MPP-2026-1", received_at=T0,
                        details=FULL),
        RequestReceived(request_id=b, domestic_reference="MPP-2026-2", received_at=T0,
                        details=BARE),
        RequestRouted(request_id=a, assignments=[assignment(a, "x"), assignment(a, "y")],
                      directory_version=1, trace=TRACE),
        RoutingFailed(request_id=b, reason="no office", directory_version=1, trace=TRACE),
        AssignmentDeclined(request_id=a, assignment_id=f"{a}-y", office_id="y", reason="no"),
        RequestRouted(request_id=b, assignments=[assignment(b, "z")], directory_version=2,
                      trace=TRACE, mode="manual", reason="by hand", operator="ana"),
        RequestExecuted(request_id=a, assignment_id=f"{a}-x", office_id="x",
                        result="executed", outstanding=0),
        DeadlineApproaching(request_id=b, deadline_id=f"{b}:decide", kind="decide",
                            due=date(2026, 3, 20), basis="rule decide"),
        RequestClosed(request_id=a, outcome="completed", answer_summary="sent"),
        RequestWithdrawn(request_id=b),
        RequestClosed(request_id=b, outcome="withdrawn"),
        RequestReceived(request_id=c, domestic_reference="MPP-2026-3", received_at=T0,
                        details=FULL),
    ]  # fmt: skip


EVENTS = [
    new_event(p, source="/mla/test").model_copy(update={"time": T0 + timedelta(hours=i)})
    for i, p in enumerate(lifecycles())
]


def archived(events: list[CloudEvent]) -> list[Entry]:
    """The archive as the projector writes it."""
    entries, head = [], GENESIS
    for position, event in enumerate(events, 1):
        body = canonical_bytes(event.model_dump(mode="json", exclude_none=True))
        entries.append(Entry(position, head, chain_hash(head, body), body))
        head = entries[-1].hash
    return entries


def test_trusting_the_archive_folds_what_checking_every_event_folds() -> None:
    entries = archived(EVENTS)
    trusted, checked = Fold(trusted=True), Fold()

    trusted.feed(entries)
    checked.feed(entries)

    assert trusted.views == checked.views
    for request_id, view in checked.views.items():
        assert to_document(trusted.views[request_id]) == to_document(view)
        live = fold((read_payload(e), e.time) for e in EVENTS if e.subject == request_id)
        assert view == live and to_document(view) == to_document(live)


def test_fed_page_by_page_the_fold_is_the_fold_in_one_go() -> None:
    entries = archived(EVENTS)
    whole, paged = Fold(trusted=True), Fold(trusted=True)

    whole.feed(entries)
    for start in range(0, len(entries), 5):
        paged.feed(entries[start : start + 5])

    assert paged.result() == whole.result()


def test_as_of_a_position_the_fold_stops_there() -> None:
    fold_ = Fold(trusted=True, position=3)

    fold_.feed(archived(EVENTS))

    assert fold_.complete and fold_.applied == 3
    assert {r: v.status for r, v in fold_.views.items()} == {"req-a": "routed", "req-b": "received"}


def test_the_request_details_read_back_are_what_the_checked_model_dumps() -> None:
    for details in (FULL, BARE):
        dumped = details.model_dump(mode="json")
        canonical = orjson.loads(canonical_bytes(dumped))
        assert canonical != dumped  # nulls were dropped
        assert complete(RequestDetails, canonical) == dumped


def test_an_event_that_cannot_be_read_is_listed_with_the_reason_and_the_rest_folds() -> None:
    newer = EVENTS[0].model_copy(update={"schemaversion": 9, "id": "newer"})
    garbled = Entry(2, GENESIS, GENESIS, b'{"not": "an event"')
    entries = [archived([newer])[0], garbled, *archived(EVENTS[1:2])]
    entries[2] = Entry(3, entries[2].prev_hash, entries[2].hash, entries[2].body)
    trusted = Fold(trusted=True)

    trusted.feed(entries)

    assert [position for position, _ in trusted.unreadable] == [1, 2]
    assert "schema version 9" in trusted.unreadable[0][1]
    assert "not JSON" in trusted.unreadable[1][1]
    assert list(trusted.views) == ["req-b"]


def test_a_trusted_read_gives_the_envelope_as_archived() -> None:
    [entry] = archived(EVENTS[:1])

    event = read_event(entry.body, trusted=True)

    assert (event.id, event.type, event.subject) == (EVENTS[0].id, EVENTS[0].type, "req-a")
    assert event.time == EVENTS[0].time
