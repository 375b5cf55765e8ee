"""Builders shared by the routed-request tests: the example request, offices, decisions, and a
request already received or already routed by the rules (assignment ids come from the
`new_id` fixture in conftest.py)."""

from collections.abc import Callable
from datetime import UTC, datetime

from services.routing.domain.decision import PlannedAssignment, RoutingDecision, RuleTrace
from services.routing.domain.routed_request import RoutedRequest
from shared.events.catalogue import (
    MeasureRef,
    RequestReceived,
    RequestRouted,
)
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
