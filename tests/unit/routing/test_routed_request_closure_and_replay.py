"""A routed request frozen once intake closes or withdraws it (every command refused, nothing
written), unmoved by a redelivered received event, and rebuilt from its event stream exactly
as it was live."""

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from services.routing.domain.errors import (
    IllegalTransitionError,
)
from services.routing.domain.routed_request import RoutedRequest, Status
from shared.events.catalogue import (
    Payload,
    RequestClosed,
    RequestReceived,
    RequestWithdrawn,
)
from shared.events.vocabulary import ExecutionResult, Outcome
from tests.unit.routing.routed_request_cases import (
    DETAILS,
    REQUEST_ID,
    SPLIT,
    decision,
    no_office,
    office_name,
    plan,
    received,
    routed_by_rules,
)

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
