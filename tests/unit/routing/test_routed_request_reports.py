"""What the executing offices do with an assignment: decline it when not competent (and the
next routing replaces them), or report its execution once; the request is executed when every
assignment has reported. Unknown, declined or already-reported assignments are refused."""

from collections.abc import Callable

import pytest

from services.routing.domain.errors import (
    IllegalTransitionError,
    RoutingNotFoundError,
)
from services.routing.domain.routed_request import RoutedRequest, Status
from shared.events.catalogue import (
    AssignmentDeclined,
    RequestExecuted,
    RequestRouted,
)
from shared.events.vocabulary import ExecutionResult
from tests.unit.routing.routed_request_cases import (
    REQUEST_ID,
    decision,
    ids_by_office,
    office_name,
    plan,
    routed_by_rules,
)


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
