"""What someone following a request reads in tracking: where it stands, which offices have it,
when each step happened; the same whether the view was kept up event by event, stored and
loaded again, or rebuilt from the whole history."""

from datetime import UTC, datetime, timedelta
from typing import Literal

import orjson

from services.intake.domain.request import AssistanceRequest
from services.tracking.domain.view import (
    AssignmentView,
    RequestView,
    fold,
    from_document,
    project,
    to_document,
)
from shared.events.catalogue import (
    Assignment,
    AssignmentDeclined,
    MeasureRef,
    Payload,
    RequestClosed,
    RequestExecuted,
    RequestReceived,
    RequestRouted,
    RoutingFailed,
)
from shared.events.vocabulary import ExecutionResult, Outcome
from shared.request.model import EXAMPLE_REQUEST, RequestDetails

REQUEST_ID = "req-1"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DETAILS = RequestDetails.model_validate(EXAMPLE_REQUEST)
SEARCH = MeasureRef(index=0, type="search_and_seizure", place="Subotica")
HEARING = MeasureRef(index=1, type="hearing_witness", place="Novi Sad")

RECEIVED = RequestReceived(
    request_id=REQUEST_ID, domestic_reference="MLA-2026-0001", received_at=T0, details=DETAILS
)


def assignment(assignment_id: str, office_id: str, *measures: MeasureRef) -> Assignment:
    return Assignment(
        assignment_id=assignment_id,
        office_id=office_id,
        office_name=f"Public Prosecution Office {office_id}",
        measures=list(measures),
        rule="territorial_basic",
        basis="seat of the measure",
    )


def routed_to(
    *assignments: Assignment, mode: Literal["automatic", "manual"] = "automatic"
) -> RequestRouted:
    return RequestRouted(
        request_id=REQUEST_ID,
        assignments=list(assignments),
        directory_version=1,
        trace=[],
        mode=mode,
    )


def executed(
    assignment_id: str, result: ExecutionResult = ExecutionResult.EXECUTED
) -> RequestExecuted:
    return RequestExecuted(
        request_id=REQUEST_ID,
        assignment_id=assignment_id,
        office_id="o",
        result=result,
        outstanding=0,
    )


def failed(reason: str = "no office for the place of the hearing") -> RoutingFailed:
    return RoutingFailed(request_id=REQUEST_ID, reason=reason, directory_version=1, trace=[])


def hourly(*payloads: Payload) -> list[tuple[Payload, datetime]]:
    """The events as stored, one hour apart from T0."""
    return [(payload, T0 + timedelta(hours=hour)) for hour, payload in enumerate(payloads)]


def stored_and_loaded(view: RequestView) -> RequestView:
    """The view as the database gives it back (a JSON document)."""
    return from_document(orjson.loads(orjson.dumps(to_document(view))))


FULL_LIFECYCLE = hourly(
    RECEIVED,
    routed_to(
        assignment("a-1", "bjt-subotica", SEARCH), assignment("a-2", "bjt-novi-sad", HEARING)
    ),
    executed("a-2", ExecutionResult.PARTIALLY_EXECUTED),
    executed("a-1"),
    RequestClosed(
        request_id=REQUEST_ID, outcome=Outcome.PARTIALLY_COMPLETED, answer_summary="sent back"
    ),
)


def test_a_request_followed_to_its_end_shows_closed_with_its_offices_and_dates() -> None:
    view = fold(FULL_LIFECYCLE)

    assert view is not None
    assert view.status == "closed"
    assert view.outcome == "partially_completed"
    assert view.domestic_reference == "MLA-2026-0001"
    assert (view.country, view.foreign_reference, view.urgency) == ("SI", "Kt 1234/2026", "urgent")
    assert view.offices == ("bjt-novi-sad", "bjt-subotica")
    assert view.received_at == T0
    assert view.routed_at == T0 + timedelta(hours=1)
    assert view.executed_at == T0 + timedelta(hours=3)
    assert view.closed_at == view.updated_at == T0 + timedelta(hours=4)
    assert view.event_count == 5
    assert view.assignments == (
        AssignmentView(
            assignment_id="a-1",
            office_id="bjt-subotica",
            office_name="Public Prosecution Office bjt-subotica",
            measures=("search_and_seizure @ Subotica",),
            rule="territorial_basic",
            inferred=False,
            result="executed",
            reported_at=T0 + timedelta(hours=3),
        ),
        AssignmentView(
            assignment_id="a-2",
            office_id="bjt-novi-sad",
            office_name="Public Prosecution Office bjt-novi-sad",
            measures=("hearing_witness @ Novi Sad",),
            rule="territorial_basic",
            inferred=False,
            result="partially_executed",
            reported_at=T0 + timedelta(hours=2),
        ),
    )


def test_a_request_nobody_has_reported_on_shows_routed_until_the_last_office_reports() -> None:
    view = fold(FULL_LIFECYCLE[:3])

    assert view is not None
    assert view.status == "routed"
    assert view.executed_at is None
    assert view.closed_at is None


def test_no_events_no_view() -> None:
    assert fold([]) is None


def test_a_view_stored_and_loaded_again_is_the_same_view() -> None:
    for end in range(1, len(FULL_LIFECYCLE) + 1):
        view = fold(FULL_LIFECYCLE[:end])
        assert view is not None

        assert stored_and_loaded(view) == view


def test_a_view_kept_up_event_by_event_through_the_database_equals_the_replay() -> None:
    view: RequestView | None = None
    for payload, at in FULL_LIFECYCLE:
        view = stored_and_loaded(project(view, payload, at))

    assert view == fold(FULL_LIFECYCLE)


def test_a_request_no_rule_could_place_shows_routed_once_an_operator_routes_it_by_hand() -> None:
    events = hourly(RECEIVED, failed())
    waiting = fold(events)
    assert waiting is not None
    assert (waiting.status, waiting.routing_failure) == (
        "routing_failed",
        "no office for the place of the hearing",
    )

    view = project(
        waiting, routed_to(assignment("a-1", "vjt-novi-sad", SEARCH, HEARING), mode="manual"), T0
    )

    assert view.status == "routed"
    assert view.routing_failure is None
    assert view.offices == ("vjt-novi-sad",)


def test_a_declining_office_leaves_the_view_and_is_listed_as_declined() -> None:
    view = fold(
        hourly(
            RECEIVED,
            routed_to(
                assignment("a-1", "bjt-subotica", SEARCH),
                assignment("a-2", "bjt-novi-sad", HEARING),
            ),
            AssignmentDeclined(
                request_id=REQUEST_ID, assignment_id="a-2", office_id="bjt-novi-sad", reason="no"
            ),
            routed_to(
                assignment("a-1", "bjt-subotica", SEARCH),
                assignment("a-3", "vjt-novi-sad", HEARING),
            ),
        )
    )

    assert view is not None
    assert view.offices == ("bjt-subotica", "vjt-novi-sad")
    assert view.declined_offices == ("bjt-novi-sad",)
    assert view.status == "routed"


def test_a_new_assignment_after_execution_sends_the_request_back_to_routed() -> None:
    view = fold(
        hourly(
            RECEIVED,
            routed_to(assignment("a-1", "bjt-subotica", SEARCH)),
            executed("a-1"),
            routed_to(
                assignment("a-1", "bjt-subotica", SEARCH),
                assignment("a-2", "bjt-novi-sad", HEARING),
            ),
        )
    )

    assert view is not None
    assert view.status == "routed"
    assert view.executed_at is None
    assert view.assignments[0].result == "executed", "what was reported stays reported"


def test_nothing_routing_reports_late_reopens_a_closed_request() -> None:
    view = fold(
        hourly(
            RECEIVED,
            RequestClosed(request_id=REQUEST_ID, outcome=Outcome.REFUSED, grounds="time-barred"),
            failed(),
        )
    )

    assert view is not None
    assert (view.status, view.outcome, view.routing_failure) == ("closed", "refused", None)


def test_tracking_shows_the_status_intake_holds_for_the_same_events() -> None:
    stream: list[Payload] = [
        RECEIVED,
        routed_to(
            assignment("a-1", "bjt-subotica", SEARCH), assignment("a-2", "bjt-novi-sad", HEARING)
        ),
        executed("a-1"),
        executed("a-2"),
    ]

    view = fold(hourly(*stream))

    assert view is not None
    assert view.status == AssistanceRequest.rehydrate(REQUEST_ID, stream).status == "executed"


def test_a_request_waiting_for_an_operator_still_shows_routing_failed_when_an_office_reports() -> (
    None
):
    stream: list[Payload] = [
        RECEIVED,
        routed_to(
            assignment("a-1", "bjt-subotica", SEARCH), assignment("a-2", "bjt-novi-sad", HEARING)
        ),
        failed("the operator re-ran the rules after a directory change: no office for Novi Sad"),
        executed("a-1"),
    ]

    view = fold(hourly(*stream))

    assert view is not None
    assert AssistanceRequest.rehydrate(REQUEST_ID, stream).status == "routing_failed"
    assert view.status == "routing_failed"
