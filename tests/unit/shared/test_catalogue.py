"""The event catalogue as producers and consumers meet it: an event is stamped with its type,
subject and schema version; a consumer reads back the typed payload, old versions included;
anything it cannot process is refused with an error that sends it to the dead-letter topic."""

from datetime import UTC, date, datetime
from typing import Any

import pytest

from shared.events import catalogue
from shared.events.catalogue import (
    CATALOGUE,
    CLOSED,
    EXECUTED,
    RECEIVED,
    UPCASTERS,
    WITHDRAWN,
    Assignment,
    AssignmentDeclined,
    DeadlineApproaching,
    DeadlineBreached,
    MeasureRef,
    Payload,
    PayloadError,
    RequestClosed,
    RequestExecuted,
    RequestReceived,
    RequestRouted,
    RequestWithdrawn,
    RoutingFailed,
    RuleStep,
    UnknownEventError,
    new_event,
    read_payload,
)
from shared.events.envelope import CloudEvent, EnvelopeError
from shared.events.vocabulary import ExecutionResult, Outcome
from shared.request.model import EXAMPLE_REQUEST, RequestDetails

REQUEST_ID = "req-1"
TRACE = [RuleStep(rule="territorial", matched=True, reason="Subotica: basic court")]

EVERY_PAYLOAD: list[Payload] = [
    RequestReceived(
        request_id=REQUEST_ID,
        domestic_reference="MLA-2026-0001",
        received_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        details=RequestDetails.model_validate(EXAMPLE_REQUEST),
    ),
    RequestRouted(
        request_id=REQUEST_ID,
        assignments=[
            Assignment(
                assignment_id="a-1",
                office_id="bjt-subotica",
                office_name="Basic Public Prosecution Office in Subotica",
                measures=[MeasureRef(index=0, type="search_and_seizure", place="Subotica")],
                rule="territorial_basic",
                basis="seat of the office",
            )
        ],
        directory_version=3,
        trace=TRACE,
    ),
    RoutingFailed(
        request_id=REQUEST_ID, reason="no office for Atlantis", directory_version=3, trace=TRACE
    ),
    AssignmentDeclined(request_id=REQUEST_ID, assignment_id="a-1", office_id="o-1", reason="no"),
    RequestExecuted(
        request_id=REQUEST_ID,
        assignment_id="a-1",
        office_id="o-1",
        result=ExecutionResult.EXECUTED,
        outstanding=0,
    ),
    RequestWithdrawn(request_id=REQUEST_ID, reason="case dropped"),
    RequestClosed(request_id=REQUEST_ID, outcome=Outcome.COMPLETED, answer_summary="sent"),
    DeadlineApproaching(
        request_id=REQUEST_ID,
        deadline_id="d-1",
        kind="requested_date",
        due=date(2027, 6, 30),
        basis="x",
    ),
    DeadlineBreached(
        request_id=REQUEST_ID,
        deadline_id="d-1",
        kind="requested_date",
        due=date(2027, 6, 30),
        basis="x",
    ),
]


def stored(
    event_type: str, data: dict[str, Any], *, version: int = 1, subject: str = REQUEST_ID
) -> CloudEvent:
    """An event as a consumer finds it on the topic or in a stored stream."""
    return CloudEvent.create(
        source="/mla/intake", type=event_type, subject=subject, schemaversion=version, data=data
    )


def test_new_event_stamps_type_subject_and_current_schema_version() -> None:
    payload = RequestClosed(
        request_id=REQUEST_ID, outcome=Outcome.REFUSED, grounds="ne bis in idem"
    )

    event = new_event(
        payload, source="/mla/intake", correlation_id="corr-1", causation_id="cause-1"
    )

    assert event.type == CLOSED == "mla.request.closed"
    assert event.subject == REQUEST_ID
    assert event.schemaversion == CATALOGUE[CLOSED][0]
    assert event.source == "/mla/intake"
    assert (event.correlationid, event.causationid) == ("corr-1", "cause-1")
    assert event.data["outcome"] == "refused"


@pytest.mark.parametrize("payload", EVERY_PAYLOAD, ids=lambda p: type(p).__name__)
def test_a_consumer_reads_back_the_typed_payload_that_was_sent(payload: Payload) -> None:
    event = new_event(payload, source="/mla/routing")

    received = read_payload(CloudEvent.from_bytes(event.to_bytes()))

    assert type(received) is type(payload)
    assert received == payload


def test_a_payload_outside_the_catalogue_cannot_be_sent() -> None:
    class Gossip(Payload):
        rumour: str

    with pytest.raises(UnknownEventError, match="Gossip is not in the event catalogue"):
        new_event(Gossip(request_id=REQUEST_ID, rumour="x"), source="/mla/intake")


def test_an_unknown_event_type_is_refused() -> None:
    event = stored("mla.request.teleported", {"request_id": REQUEST_ID})

    with pytest.raises(UnknownEventError, match=r"unknown event type 'mla\.request\.teleported'"):
        read_payload(event)


def test_an_event_of_a_newer_schema_version_than_this_reader_knows_is_refused() -> None:
    event = stored(WITHDRAWN, {"request_id": REQUEST_ID}, version=CATALOGUE[WITHDRAWN][0] + 1)

    with pytest.raises(UnknownEventError, match="schema version 2 is newer than this reader's 1"):
        read_payload(event)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        pytest.param({"request_id": REQUEST_ID, "outcome": "lost"}, "outcome", id="bad value"),
        pytest.param({"request_id": REQUEST_ID}, "outcome", id="missing field"),
        pytest.param(
            {"request_id": REQUEST_ID, "outcome": "completed", "rating": 5},
            "rating",
            id="extra field",
        ),
    ],
)
def test_data_that_does_not_match_the_payload_is_refused_naming_the_field(
    data: dict[str, Any], field: str
) -> None:
    with pytest.raises(PayloadError, match=rf"mla\.request\.closed v1: {field}:"):
        read_payload(stored(CLOSED, data))


def test_a_nested_field_is_named_by_its_path() -> None:
    data = EVERY_PAYLOAD[0].model_dump(mode="json")
    data["details"]["measures"][1]["type"] = "torture"

    with pytest.raises(PayloadError, match=r"details\.measures\.1\.type:"):
        read_payload(stored(RECEIVED, data))


def test_an_event_whose_subject_is_another_request_than_its_data_is_refused() -> None:
    event = stored(WITHDRAWN, {"request_id": "req-2"}, subject=REQUEST_ID)

    with pytest.raises(PayloadError, match=r"subject 'req-1' differs from data\.request_id"):
        read_payload(event)


def test_every_refusal_is_an_envelope_error_so_the_consumer_dead_letters_it() -> None:
    assert issubclass(UnknownEventError, EnvelopeError)
    assert issubclass(PayloadError, EnvelopeError)


def test_every_older_schema_version_in_the_catalogue_has_an_upcaster() -> None:
    missing = [
        (event_type, version)
        for event_type, (current, _) in CATALOGUE.items()
        for version in range(1, current)
        if (event_type, version) not in UPCASTERS
    ]

    assert missing == []


class ExecutedV2(Payload):
    """A second version of `mla.request.executed`: `details` renamed to `report`."""

    assignment_id: str
    office_id: str
    result: ExecutionResult
    report: str | None = None
    outstanding: int


def rename_details_to_report(data: dict[str, Any]) -> dict[str, Any]:
    upcast = dict(data)
    upcast["report"] = upcast.pop("details", None)
    return upcast


@pytest.fixture
def executed_at_version_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(catalogue.CATALOGUE, EXECUTED, (2, ExecutedV2))
    monkeypatch.setitem(catalogue.UPCASTERS, (EXECUTED, 1), rename_details_to_report)


V1_EXECUTED = {
    "request_id": REQUEST_ID,
    "assignment_id": "a-1",
    "office_id": "o-1",
    "result": "partially_executed",
    "details": "the witness could not be found",
    "outstanding": 0,
}


@pytest.mark.usefixtures("executed_at_version_2")
def test_an_event_stored_at_version_1_is_upcast_to_the_current_version_on_read() -> None:
    event = stored(EXECUTED, V1_EXECUTED, version=1)

    payload = read_payload(event)

    assert payload == ExecutedV2(
        request_id=REQUEST_ID,
        assignment_id="a-1",
        office_id="o-1",
        result=ExecutionResult.PARTIALLY_EXECUTED,
        report="the witness could not be found",
        outstanding=0,
    )
    assert event.data == V1_EXECUTED, "a stored event is never rewritten"


@pytest.mark.usefixtures("executed_at_version_2")
def test_after_the_upgrade_new_events_are_version_2_and_read_as_they_are() -> None:
    payload = ExecutedV2(
        request_id=REQUEST_ID,
        assignment_id="a-1",
        office_id="o-1",
        result=ExecutionResult.EXECUTED,
        report="done",
        outstanding=0,
    )

    event = new_event(payload, source="/mla/routing")

    assert (event.type, event.schemaversion) == (EXECUTED, 2)
    assert event.data["report"] == "done"
    assert read_payload(event) == payload


@pytest.mark.usefixtures("executed_at_version_2")
def test_an_upcast_that_does_not_produce_the_current_payload_is_a_payload_error() -> None:
    event = stored(EXECUTED, {**V1_EXECUTED, "result": "lost"}, version=1)

    with pytest.raises(PayloadError, match=r"mla\.request\.executed v2: result:"):
        read_payload(event)
