"""The life of a request as the clerk at intake lives it: received, placed with executing
offices, executed by each of them, closed with an answer; withdrawn on the requester's word;
and refused, with a reason, whenever a step would skip what the law and the lifecycle require."""

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from services.intake.domain.errors import IllegalTransitionError
from services.intake.domain.request import AssistanceRequest, Status
from shared.events.catalogue import (
    Assignment,
    AssignmentDeclined,
    MeasureRef,
    Payload,
    RequestClosed,
    RequestExecuted,
    RequestReceived,
    RequestRouted,
    RequestWithdrawn,
    RoutingFailed,
)
from shared.events.vocabulary import ExecutionResult, Outcome
from shared.request.model import EXAMPLE_REQUEST, RequestDetails

REQUEST_ID = "req-1"
REFERENCE = "MLA-2026-0001"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DETAILS = RequestDetails.model_validate(EXAMPLE_REQUEST)
SEARCH = MeasureRef(index=0, type="search_and_seizure", place="Subotica")
HEARING = MeasureRef(index=1, type="hearing_witness", place="Novi Sad")


def received() -> AssistanceRequest:
    request = AssistanceRequest.receive(REQUEST_ID, REFERENCE, DETAILS, NOW)
    request.pending.clear()  # written with the command that received it
    return request


def assignment(assignment_id: str, office_id: str, *measures: MeasureRef) -> Assignment:
    return Assignment(
        assignment_id=assignment_id,
        office_id=office_id,
        office_name=f"Basic Public Prosecution Office {office_id}",
        measures=list(measures),
        rule="territorial_basic",
        basis="the measure is carried out in the office's territory",
    )


def routed_to(*assignments: Assignment, rerouted: bool = False) -> RequestRouted:
    return RequestRouted(
        request_id=REQUEST_ID,
        assignments=list(assignments),
        directory_version=1,
        trace=[],
        rerouted=rerouted,
    )


SUBOTICA = assignment("a-subotica", "bjt-subotica", SEARCH)
NOVI_SAD = assignment("a-novi-sad", "bjt-novi-sad", HEARING)


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


def routed_to_two_offices() -> AssistanceRequest:
    request = received()
    request.observe(routed_to(SUBOTICA, NOVI_SAD))
    return request


def closed() -> AssistanceRequest:
    request = received()
    request.close(
        Outcome.REFUSED, grounds="political offence (1959 Convention art. 2)", answer_summary=None
    )
    request.pending.clear()
    return request


def test_receiving_a_request_records_it_with_its_domestic_reference() -> None:
    request = AssistanceRequest.receive(REQUEST_ID, REFERENCE, DETAILS, NOW)

    assert request.status is Status.RECEIVED
    assert request.pending == [
        RequestReceived(
            request_id=REQUEST_ID, domestic_reference=REFERENCE, received_at=NOW, details=DETAILS
        )
    ]


def test_a_request_executed_by_every_office_is_closed_as_completed() -> None:
    request = routed_to_two_offices()

    request.observe(executed("a-subotica"))
    assert (request.status, "close as completed" in request.allowed()) == (Status.ROUTED, False)
    request.observe(executed("a-novi-sad"))
    assert (request.status, "close as completed" in request.allowed()) == (Status.EXECUTED, True)

    request.close(Outcome.COMPLETED, grounds=None, answer_summary="records and hearing sent")

    assert request.status is Status.CLOSED
    assert request.outcome is Outcome.COMPLETED
    assert request.pending == [
        RequestClosed(
            request_id=REQUEST_ID,
            outcome=Outcome.COMPLETED,
            answer_summary="records and hearing sent",
        )
    ]


def test_the_request_read_back_from_its_stream_is_the_one_that_was_closed() -> None:
    history = [
        RequestReceived(
            request_id=REQUEST_ID, domestic_reference=REFERENCE, received_at=NOW, details=DETAILS
        ),
        routed_to(SUBOTICA, NOVI_SAD),
        executed("a-subotica"),
        executed("a-novi-sad", ExecutionResult.PARTIALLY_EXECUTED),
        RequestClosed(request_id=REQUEST_ID, outcome=Outcome.PARTIALLY_COMPLETED),
    ]

    request = AssistanceRequest.rehydrate(REQUEST_ID, history)

    assert request.version == 5
    assert request.domestic_reference == REFERENCE
    assert request.status is Status.CLOSED
    assert request.outcome is Outcome.PARTIALLY_COMPLETED
    assert request.assignments == {
        "a-subotica": ExecutionResult.EXECUTED,
        "a-novi-sad": ExecutionResult.PARTIALLY_EXECUTED,
    }


def test_closing_as_completed_is_refused_while_an_assignment_has_not_reported() -> None:
    request = routed_to_two_offices()
    request.observe(executed("a-subotica"))
    version = request.version

    with pytest.raises(IllegalTransitionError) as refused:
        request.close(Outcome.COMPLETED, grounds=None, answer_summary=None)

    message = str(refused.value)
    assert f"cannot close request {REFERENCE} as completed" in message
    assert "it is routed" in message
    assert "1 of 2 assignment(s) have not reported execution" in message
    assert refused.value.state == Status.ROUTED
    assert "close as completed" not in refused.value.allowed
    assert (request.version, request.pending, request.status) == (version, [], Status.ROUTED)


@pytest.mark.parametrize("outcome", [Outcome.COMPLETED, Outcome.PARTIALLY_COMPLETED])
def test_a_request_nobody_was_assigned_cannot_be_closed_as_executed(outcome: Outcome) -> None:
    request = received()

    with pytest.raises(IllegalTransitionError, match="0 of 0 assignment"):
        request.close(outcome, grounds=None, answer_summary=None)

    assert request.status is Status.RECEIVED
    assert request.version == 1


def test_a_partially_executed_assignment_allows_partially_completed_but_not_completed() -> None:
    request = routed_to_two_offices()
    request.observe(executed("a-subotica"))
    request.observe(executed("a-novi-sad", ExecutionResult.PARTIALLY_EXECUTED))
    assert request.allowed() == [
        "withdraw",
        "close as refused",
        "close as withdrawn",
        "close as partially_completed",
    ]

    with pytest.raises(IllegalTransitionError, match="close it as partially_completed"):
        request.close(Outcome.COMPLETED, grounds=None, answer_summary=None)
    request.close(
        Outcome.PARTIALLY_COMPLETED, grounds=None, answer_summary="the witness was not found"
    )

    assert request.outcome is Outcome.PARTIALLY_COMPLETED


def test_a_refusal_must_state_its_grounds() -> None:
    request = routed_to_two_offices()

    for no_grounds in (None, ""):
        with pytest.raises(IllegalTransitionError, match="a refusal must state its grounds"):
            request.close(Outcome.REFUSED, grounds=no_grounds, answer_summary=None)
    assert request.status is Status.ROUTED
    request.close(Outcome.REFUSED, grounds="the offence is time-barred", answer_summary=None)

    assert request.outcome is Outcome.REFUSED
    assert request.pending == [
        RequestClosed(
            request_id=REQUEST_ID, outcome=Outcome.REFUSED, grounds="the offence is time-barred"
        )
    ]


@pytest.mark.parametrize(
    "reach",
    [received, routed_to_two_offices],
    ids=["received", "routed"],
)
def test_withdrawing_before_closure_closes_the_request_as_withdrawn(
    reach: Callable[[], AssistanceRequest],
) -> None:
    request = reach()

    request.withdraw("the requesting court dropped the case")

    assert request.status is Status.CLOSED
    assert request.outcome is Outcome.WITHDRAWN
    assert request.pending == [
        RequestWithdrawn(request_id=REQUEST_ID, reason="the requesting court dropped the case"),
        RequestClosed(
            request_id=REQUEST_ID,
            outcome=Outcome.WITHDRAWN,
            grounds="the requesting court dropped the case",
        ),
    ]


def test_a_request_waiting_for_an_operator_can_still_be_withdrawn() -> None:
    request = received()
    request.observe(
        RoutingFailed(request_id=REQUEST_ID, reason="no office", directory_version=1, trace=[])
    )
    assert request.status is Status.ROUTING_FAILED

    request.withdraw(None)

    assert request.outcome is Outcome.WITHDRAWN


@pytest.mark.parametrize(
    ("command", "action"),
    [
        (lambda r: r.withdraw("changed its mind"), "withdraw"),
        (lambda r: r.close(Outcome.REFUSED, "grounds", None), "close"),
        (lambda r: r.close(Outcome.WITHDRAWN, None, None), "close"),
        (lambda r: r.close(Outcome.COMPLETED, None, None), "close"),
    ],
    ids=["withdraw", "close as refused", "close as withdrawn", "close as completed"],
)
def test_every_command_after_closure_is_refused_saying_the_request_is_closed(
    command: Callable[[AssistanceRequest], None], action: str
) -> None:
    request = closed()
    version = request.version

    with pytest.raises(IllegalTransitionError) as refused:
        command(request)

    assert str(refused.value) == (
        f"cannot {action} request {REFERENCE}: it is already closed (outcome refused); "
        "a closed request accepts no further commands"
    )
    assert refused.value.allowed == []
    assert (request.version, request.pending, request.outcome) == (version, [], Outcome.REFUSED)


@pytest.mark.parametrize(
    "fact",
    [
        routed_to(SUBOTICA),
        RoutingFailed(request_id=REQUEST_ID, reason="no office", directory_version=1, trace=[]),
        AssignmentDeclined(
            request_id=REQUEST_ID, assignment_id="a-subotica", office_id="o", reason="x"
        ),
        executed("a-subotica"),
    ],
    ids=lambda fact: type(fact).__name__,
)
def test_facts_routing_reports_after_closure_change_nothing(fact: Payload) -> None:
    request = closed()
    version = request.version

    assert request.observe(fact) is False

    assert (request.version, request.status, request.assignments) == (version, Status.CLOSED, {})


def test_intake_does_not_take_its_own_facts_from_routing() -> None:
    request = received()

    assert request.observe(RequestWithdrawn(request_id=REQUEST_ID)) is False
    assert request.status is Status.RECEIVED


def test_a_reroute_that_drops_an_unreported_assignment_no_longer_waits_for_it() -> None:
    request = routed_to_two_offices()
    request.observe(executed("a-subotica"))
    both_measures_in_subotica = assignment("a-subotica-2", "bjt-subotica", HEARING)

    request.observe(routed_to(SUBOTICA, both_measures_in_subotica, rerouted=True))

    assert request.assignments == {"a-subotica": ExecutionResult.EXECUTED, "a-subotica-2": None}
    assert request.status is Status.ROUTED
    request.observe(executed("a-subotica-2"))
    request.close(Outcome.COMPLETED, grounds=None, answer_summary=None)
    assert request.outcome is Outcome.COMPLETED


def test_a_reroute_keeps_what_an_assignment_already_reported() -> None:
    request = routed_to_two_offices()
    request.observe(executed("a-subotica"))
    request.observe(executed("a-novi-sad"))

    request.observe(routed_to(SUBOTICA, NOVI_SAD, rerouted=True))

    assert request.status is Status.EXECUTED
    assert set(request.assignments.values()) == {ExecutionResult.EXECUTED}


def test_a_declined_assignment_is_no_longer_waited_for_and_its_replacement_is() -> None:
    request = routed_to_two_offices()
    request.observe(executed("a-subotica"))

    request.observe(
        AssignmentDeclined(
            request_id=REQUEST_ID,
            assignment_id="a-novi-sad",
            office_id="bjt-novi-sad",
            reason="not competent",
        )
    )
    assert request.assignments == {"a-subotica": ExecutionResult.EXECUTED}
    higher = assignment("a-higher", "vjt-novi-sad", HEARING)
    request.observe(routed_to(SUBOTICA, higher, rerouted=True))

    with pytest.raises(IllegalTransitionError, match="1 of 2 assignment"):
        request.close(Outcome.COMPLETED, grounds=None, answer_summary=None)
    request.observe(executed("a-higher"))
    request.close(Outcome.COMPLETED, grounds=None, answer_summary=None)
    assert request.outcome is Outcome.COMPLETED


def test_a_request_whose_declined_measures_found_no_office_cannot_be_closed_completed() -> None:
    request = routed_to_two_offices()
    request.observe(executed("a-subotica"))
    request.observe(
        AssignmentDeclined(
            request_id=REQUEST_ID,
            assignment_id="a-novi-sad",
            office_id="bjt-novi-sad",
            reason="not competent",
        )
    )
    request.observe(
        RoutingFailed(
            request_id=REQUEST_ID,
            reason="no other office for Novi Sad",
            directory_version=1,
            trace=[],
        )
    )
    assert request.status is Status.ROUTING_FAILED  # the hearing waits for an operator

    with pytest.raises(IllegalTransitionError):
        request.close(Outcome.COMPLETED, grounds=None, answer_summary=None)
