"""Where a request is executed, as routing's operators and the executing offices see it:
placed with offices (by the rules or by hand, with a reason), declined by an office that is
not competent and placed again, reported on once per assignment, and frozen once closed."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from itertools import count

import pytest

from services.routing.domain.decision import PlannedAssignment, RoutingDecision, RuleTrace
from services.routing.domain.errors import (
    IllegalTransitionError,
    InvalidRoutingError,
    RoutingNotFoundError,
)
from services.routing.domain.routed_request import RoutedRequest, Status
from shared.events.catalogue import (
    AssignmentDeclined,
    MeasureRef,
    Payload,
    RequestClosed,
    RequestExecuted,
    RequestReceived,
    RequestRouted,
    RequestWithdrawn,
    RoutingFailed,
    RuleStep,
)
from shared.events.vocabulary import ExecutionResult, Outcome
from shared.request.model import EXAMPLE_REQUEST, RequestDetails

REQUEST_ID = "req-1"
DETAILS = RequestDetails.model_validate(
    EXAMPLE_REQUEST
)  # 0: search in Subotica, 1: hearing in Novi Sad
SEARCH = MeasureRef(index=0, type="search_and_seizure", place="Subotica")
HEARING = MeasureRef(index=1, type="hearing_witness", place="Novi Sad")
OFFICES = {
    "bjt-subotica": "Basic Public Prosecution Office in Subotica",
    "bjt-novi-sad": "Basic Public Prosecution Office in Novi Sad",
    "vjt-novi-sad": "Higher Public Prosecution Office in Novi Sad",
}
TRACE = (RuleTrace(rule="territorial", matched=True, reason="placed by the seat of each measure"),)


def office_name(office_id: str) -> str:
    return OFFICES[office_id]


@pytest.fixture
def new_id() -> Callable[[], str]:
    ids: Iterator[int] = count(1)
    return lambda: f"a-{next(ids)}"


def plan(office_id: str, *measure_indexes: int, inferred: bool = False) -> PlannedAssignment:
    return PlannedAssignment(
        office_id=office_id,
        measure_indexes=measure_indexes,
        rule="territorial_basic",
        inferred=inferred,
        basis=f"{office_id} is competent for the place of the measure",
    )


def decision(*plans: PlannedAssignment) -> RoutingDecision:
    return RoutingDecision(assignments=plans, trace=TRACE, directory_version=7)


def no_office(reason: str = "no office is competent for Atlantis") -> RoutingDecision:
    trace = (
        RuleTrace(rule="territorial", matched=False, reason="Atlantis is not in the gazetteer"),
    )
    return RoutingDecision(assignments=(), trace=trace, directory_version=7, failure=reason)


SPLIT = decision(plan("bjt-subotica", 0), plan("bjt-novi-sad", 1))


def received() -> RoutedRequest:
    routed = RoutedRequest(request_id=REQUEST_ID)
    routed.observe(
        RequestReceived(
            request_id=REQUEST_ID,
            domestic_reference="MLA-2026-0001",
            received_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
            details=DETAILS,
        )
    )
    return routed


def routed_by_rules(new_id: Callable[[], str], placement: RoutingDecision = SPLIT) -> RoutedRequest:
    routed = received()
    routed.route(placement, office_name, new_id)
    routed.pending.clear()  # written with the event that made it
    return routed


def ids_by_office(routed: RoutedRequest) -> dict[str, list[str]]:
    offices: dict[str, list[str]] = {}
    for assignment_id, state in routed.assignments.items():
        offices.setdefault(state.assignment.office_id, []).append(assignment_id)
    return offices


def last_routing(routed: RoutedRequest) -> RequestRouted:
    routing = routed.pending[-1]
    assert isinstance(routing, RequestRouted)
    return routing


def test_routing_gives_each_office_the_measures_of_the_request_it_must_carry_out(
    new_id: Callable[[], str],
) -> None:
    routed = received()

    routed.route(SPLIT, office_name, new_id)

    assert routed.status is Status.ROUTED
    routing = last_routing(routed)
    assert [
        (a.assignment_id, a.office_id, a.office_name, a.measures) for a in routing.assignments
    ] == [
        ("a-1", "bjt-subotica", OFFICES["bjt-subotica"], [SEARCH]),
        ("a-2", "bjt-novi-sad", OFFICES["bjt-novi-sad"], [HEARING]),
    ]
    assert routing.mode == "automatic"
    assert routing.rerouted is False
    assert routing.directory_version == 7
    assert routing.trace == [
        RuleStep(rule="territorial", matched=True, reason="placed by the seat of each measure")
    ]


def test_an_assignment_resting_on_an_inferred_link_is_flagged_for_an_operator(
    new_id: Callable[[], str],
) -> None:
    routed = received()

    routed.route(decision(plan("vjt-novi-sad", 0, 1, inferred=True)), office_name, new_id)

    (only,) = last_routing(routed).assignments
    assert only.inferred is True
    assert only.measures == [SEARCH, HEARING]


def test_a_request_that_was_never_received_cannot_be_routed(new_id: Callable[[], str]) -> None:
    routed = RoutedRequest(request_id="req-unknown")

    with pytest.raises(RoutingNotFoundError, match="request req-unknown has not been received"):
        routed.route(SPLIT, office_name, new_id)


def test_routing_a_measure_the_request_does_not_have_is_refused_and_nothing_is_written(
    new_id: Callable[[], str],
) -> None:
    routed = routed_by_rules(new_id)
    version = routed.version

    with pytest.raises(
        InvalidRoutingError, match=r"measure 2 does not exist: the request has 2 measure\(s\)"
    ):
        routed.route(
            decision(plan("bjt-subotica", 0, 2)), office_name, new_id, manual=True, reason="fix"
        )

    assert (routed.version, routed.pending) == (version, [])
    assert set(ids_by_office(routed)) == {"bjt-subotica", "bjt-novi-sad"}


@pytest.mark.parametrize("reason", [None, ""])
def test_routing_by_hand_needs_a_reason(new_id: Callable[[], str], reason: str | None) -> None:
    routed = received()
    version = routed.version

    with pytest.raises(InvalidRoutingError, match="routing by hand needs a reason"):
        routed.route(SPLIT, office_name, new_id, manual=True, reason=reason)

    assert (routed.version, routed.pending, routed.status) == (version, [], Status.AWAITING_ROUTING)


def test_routing_by_hand_records_who_did_it_and_why(new_id: Callable[[], str]) -> None:
    routed = routed_by_rules(new_id)

    routed.route(
        decision(plan("vjt-novi-sad", 0, 1)),
        office_name,
        new_id,
        manual=True,
        reason="organised group: the higher office takes the whole case",
        operator="operator-7",
    )

    routing = last_routing(routed)
    assert (routing.mode, routing.rerouted, routing.operator) == ("manual", True, "operator-7")
    assert routing.reason == "organised group: the higher office takes the whole case"
    assert ids_by_office(routed) == {"vjt-novi-sad": ["a-3"]}


def test_rerouting_keeps_the_assignment_of_an_office_whose_measures_are_unchanged(
    new_id: Callable[[], str],
) -> None:
    routed = routed_by_rules(new_id)

    routed.route(
        decision(plan("bjt-subotica", 0), plan("vjt-novi-sad", 1)),
        office_name,
        new_id,
        manual=True,
        reason="the hearing belongs to the higher office",
    )

    assert ids_by_office(routed) == {"bjt-subotica": ["a-1"], "vjt-novi-sad": ["a-3"]}


def test_an_office_given_other_measures_gets_a_new_assignment(new_id: Callable[[], str]) -> None:
    routed = routed_by_rules(new_id)

    routed.route(
        decision(plan("bjt-subotica", 0, 1)), office_name, new_id, manual=True, reason="one office"
    )

    assert ids_by_office(routed) == {"bjt-subotica": ["a-3"]}


def test_rerouting_keeps_a_reported_assignment_on_record(new_id: Callable[[], str]) -> None:
    routed = routed_by_rules(new_id)
    routed.report_execution("a-1", ExecutionResult.EXECUTED, "records seized")

    routed.route(
        decision(plan("vjt-novi-sad", 0, 1)), office_name, new_id, manual=True, reason="one office"
    )

    assert routed.assignments["a-1"].result is ExecutionResult.EXECUTED
    assert ids_by_office(routed) == {"vjt-novi-sad": ["a-3"], "bjt-subotica": ["a-1"]}
    assert routed.status is Status.ROUTED


def test_a_declining_office_is_replaced_by_the_next_routing(new_id: Callable[[], str]) -> None:
    routed = routed_by_rules(new_id)

    routed.decline("a-2", "the witness lives in Sremska Mitrovica")
    routed.route(decision(plan("bjt-subotica", 0), plan("vjt-novi-sad", 1)), office_name, new_id)

    declined, rerouting = routed.pending
    assert declined == AssignmentDeclined(
        request_id=REQUEST_ID,
        assignment_id="a-2",
        office_id="bjt-novi-sad",
        reason="the witness lives in Sremska Mitrovica",
    )
    assert isinstance(rerouting, RequestRouted)
    assert rerouting.rerouted is True
    assert routed.declined_offices == {"bjt-novi-sad"}
    assert ids_by_office(routed) == {"bjt-subotica": ["a-1"], "vjt-novi-sad": ["a-3"]}


def test_an_office_that_reported_cannot_decline(new_id: Callable[[], str]) -> None:
    routed = routed_by_rules(new_id)
    routed.report_execution("a-1", ExecutionResult.EXECUTED, None)
    version = routed.version

    with pytest.raises(IllegalTransitionError, match="a-1 already reported executed"):
        routed.decline("a-1", "changed its mind")

    assert routed.version == version
    assert "a-1" in routed.assignments


def test_every_assignment_reporting_makes_the_request_executed(new_id: Callable[[], str]) -> None:
    routed = routed_by_rules(new_id)

    routed.report_execution("a-2", ExecutionResult.PARTIALLY_EXECUTED, "one witness not found")
    assert (routed.status, routed.allowed()) == (
        Status.ROUTED,
        ["route by hand", "report execution", "decline an assignment"],
    )
    routed.report_execution("a-1", ExecutionResult.EXECUTED, None)

    assert (routed.status, routed.allowed()) == (Status.EXECUTED, ["route by hand"])
    assert [p.outstanding for p in routed.pending if isinstance(p, RequestExecuted)] == [1, 0]
    assert routed.pending[0] == RequestExecuted(
        request_id=REQUEST_ID,
        assignment_id="a-2",
        office_id="bjt-novi-sad",
        result=ExecutionResult.PARTIALLY_EXECUTED,
        details="one witness not found",
        outstanding=1,
    )


def test_an_assignment_reports_once(new_id: Callable[[], str]) -> None:
    routed = routed_by_rules(new_id)
    routed.report_execution("a-1", ExecutionResult.NOT_EXECUTED, "premises empty")
    version = routed.version

    with pytest.raises(
        IllegalTransitionError, match="a-1 has already reported not_executed; a report is made once"
    ):
        routed.report_execution("a-1", ExecutionResult.EXECUTED, "found them after all")

    assert routed.version == version
    assert routed.assignments["a-1"].result is ExecutionResult.NOT_EXECUTED


@pytest.mark.parametrize(
    "command",
    [
        lambda r: r.report_execution("a-99", ExecutionResult.EXECUTED, None),
        lambda r: r.decline("a-99", "not ours"),
    ],
    ids=["report", "decline"],
)
def test_an_assignment_that_does_not_exist_is_not_found(
    new_id: Callable[[], str], command: Callable[[RoutedRequest], None]
) -> None:
    routed = routed_by_rules(new_id)
    version = routed.version

    with pytest.raises(RoutingNotFoundError, match="request req-1 has no active assignment a-99"):
        command(routed)

    assert routed.version == version


def test_a_declined_assignment_can_no_longer_report(new_id: Callable[[], str]) -> None:
    routed = routed_by_rules(new_id)
    routed.decline("a-2", "not competent")

    with pytest.raises(RoutingNotFoundError, match="no active assignment a-2"):
        routed.report_execution("a-2", ExecutionResult.EXECUTED, None)


def test_a_failed_decision_records_why_and_waits_for_an_operator(new_id: Callable[[], str]) -> None:
    routed = received()

    routed.route(no_office(), office_name, new_id)

    assert routed.status is Status.ROUTING_FAILED
    assert routed.last_failure == "no office is competent for Atlantis"
    assert routed.pending == [
        RoutingFailed(
            request_id=REQUEST_ID,
            reason="no office is competent for Atlantis",
            directory_version=7,
            trace=[
                RuleStep(
                    rule="territorial", matched=False, reason="Atlantis is not in the gazetteer"
                )
            ],
        )
    ]
    assert routed.allowed() == ["route by hand"]


def test_an_operator_routes_by_hand_what_the_rules_could_not(new_id: Callable[[], str]) -> None:
    routed = received()
    routed.route(no_office(), office_name, new_id)

    routed.route(SPLIT, office_name, new_id, manual=True, reason="both places are in Vojvodina")

    assert routed.status is Status.ROUTED
    assert routed.last_failure is None
    assert set(ids_by_office(routed)) == {"bjt-subotica", "bjt-novi-sad"}


CLOSURES: list[Payload] = [
    RequestClosed(request_id=REQUEST_ID, outcome=Outcome.REFUSED, grounds="political offence"),
    RequestWithdrawn(request_id=REQUEST_ID, reason="case dropped"),
]
COMMANDS: list[tuple[str, Callable[[RoutedRequest, Callable[[], str]], None]]] = [
    ("route", lambda r, new_id: r.route(SPLIT, office_name, new_id)),
    (
        "route by hand",
        lambda r, new_id: r.route(SPLIT, office_name, new_id, manual=True, reason="x"),
    ),
    ("route, failing", lambda r, new_id: r.route(no_office(), office_name, new_id)),
    ("decline", lambda r, new_id: r.decline("a-1", "not competent")),
    ("report", lambda r, new_id: r.report_execution("a-1", ExecutionResult.EXECUTED, None)),
]


@pytest.mark.parametrize("closure", CLOSURES, ids=lambda c: type(c).__name__)
@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[name for name, _ in COMMANDS])
def test_once_intake_closed_or_withdrew_the_request_every_command_is_refused(
    new_id: Callable[[], str],
    closure: Payload,
    name: str,
    command: Callable[[RoutedRequest, Callable[[], str]], None],
) -> None:
    routed = routed_by_rules(new_id)
    assert routed.observe(closure) is True
    version = routed.version

    with pytest.raises(
        IllegalTransitionError, match=r"request req-1: it is closed; a closed request accepts"
    ):
        command(routed, new_id)

    assert (routed.version, routed.pending, routed.status) == (version, [], Status.CLOSED)
    assert routed.allowed() == []


def test_a_redelivered_received_event_does_not_reset_the_routing(new_id: Callable[[], str]) -> None:
    routed = routed_by_rules(new_id)
    version = routed.version

    again = RequestReceived(
        request_id=REQUEST_ID,
        domestic_reference="MLA-2026-0001",
        received_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        details=DETAILS,
    )

    assert routed.observe(again) is False
    assert routed.version == version
    assert routed.status is Status.ROUTED


def test_the_routing_read_back_from_its_stream_is_the_live_one(new_id: Callable[[], str]) -> None:
    routed = received()
    stream: list[Payload] = [
        RequestReceived(
            request_id=REQUEST_ID,
            domestic_reference="MLA-2026-0001",
            received_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
            details=DETAILS,
        )
    ]
    routed.route(SPLIT, office_name, new_id)
    routed.report_execution("a-1", ExecutionResult.EXECUTED, None)
    routed.decline("a-2", "not competent")
    routed.route(decision(plan("bjt-subotica", 0), plan("vjt-novi-sad", 1)), office_name, new_id)
    stream += routed.pending

    rebuilt = RoutedRequest.rehydrate(REQUEST_ID, stream)

    assert rebuilt.version == routed.version
    assert rebuilt.status == routed.status
    assert rebuilt.assignments == routed.assignments
    assert rebuilt.declined_offices == {"bjt-novi-sad"}


def test_routing_again_unchanged_keeps_an_office_s_open_assignment_next_to_its_reported_one(
    new_id: Callable[[], str],
) -> None:
    routed = routed_by_rules(new_id)
    routed.report_execution("a-1", ExecutionResult.EXECUTED, "records seized")
    routed.decline("a-2", "the dispatcher now lives in Subotica")
    both_in_subotica = decision(plan("bjt-subotica", 0, 1))
    routed.route(both_in_subotica, office_name, new_id)
    assert ids_by_office(routed) == {"bjt-subotica": ["a-3", "a-1"]}

    routed.route(both_in_subotica, office_name, new_id, manual=True, reason="directory corrected")

    assert ids_by_office(routed) == {"bjt-subotica": ["a-3", "a-1"]}
