"""Placing a request with the offices that execute it, as routing's operators see it: by the
rules or by hand (always with a reason), flagged when a link is inferred, refused when the
request or a measure does not exist, recorded as a failure the rules could not place, and
placed again without losing assignments whose measures or reports are unchanged."""

from collections.abc import Callable

import pytest

from services.routing.domain.errors import (
    InvalidRoutingError,
    RoutingNotFoundError,
)
from services.routing.domain.routed_request import RoutedRequest, Status
from shared.events.catalogue import (
    RoutingFailed,
    RuleStep,
)
from shared.events.vocabulary import ExecutionResult
from tests.unit.routing.routed_request_cases import (
    HEARING,
    OFFICES,
    REQUEST_ID,
    SEARCH,
    SPLIT,
    decision,
    ids_by_office,
    last_routing,
    no_office,
    office_name,
    plan,
    received,
    routed_by_rules,
)


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
