"""tracking plans a request's deadlines at every event from the document its view keeps,
reading only what the deadlines depend on: the plan is the one its full details give."""

from __future__ import annotations

import pytest

from services.tracking.domain.deadline_plan import plan_deadlines
from services.tracking.domain.view import RequestView
from tests.unit.tracking.deadline_samples import (
    RECEIVED,
    ROUTED,
    SERBIA,
    URGENT,
    deadlines_for,
    default_policies,
    measure,
    request,
)

REQUESTS = {
    "plain": request(),
    "urgent": request(**URGENT),
    "requested date": request(requested_date="2026-03-20"),
    "two measures": request(measures=[measure("hearing_witness"), measure("subscriber_data")]),
    "cybercrime channel": request(channel="cybercrime_24_7", legal_basis="budapest"),
}


@pytest.mark.parametrize("name", REQUESTS)
def test_the_deadlines_planned_from_a_view_are_those_of_the_request_as_received(
    name: str,
) -> None:
    details = REQUESTS[name]
    steps = {"received_at": RECEIVED, "routed_at": ROUTED, "executed_at": None}
    view = RequestView(
        request_id="req-1",
        details=details.model_dump(mode="json"),
        **steps,  # type: ignore[arg-type]
    )

    planned = plan_deadlines(view)

    assert planned == deadlines_for(
        "req-1",
        details,
        **steps,
        policies=default_policies(),
        calendar=SERBIA,  # type: ignore[arg-type]
    )
    assert planned, "every request has deadlines"


def test_a_view_not_yet_received_has_no_deadlines() -> None:
    assert plan_deadlines(RequestView(request_id="req-1", details=None)) == []
    later = RequestView(request_id="req-1", details=request().model_dump(mode="json"))
    assert plan_deadlines(later) == [], "no moment of receipt yet"
