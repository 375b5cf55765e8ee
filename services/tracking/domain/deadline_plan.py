"""The deadlines of a request as its view stands now, under the default policies."""

from __future__ import annotations

from functools import cache

from services.tracking.domain.calendar import BusinessCalendar
from services.tracking.domain.deadlines import Deadline, deadlines_for, default_policies
from services.tracking.domain.view import RequestView
from shared.request.model import RequestDetails

PlannedDeadline = Deadline


@cache
def _calendar() -> BusinessCalendar:
    return BusinessCalendar()


def plan_deadlines(view: RequestView) -> list[Deadline]:
    """Every deadline the policies give this request; none before it was received."""
    if view.details is None or view.received_at is None:
        return []
    return deadlines_for(
        view.request_id,
        RequestDetails.model_validate(view.details),
        received_at=view.received_at,
        routed_at=view.routed_at,
        executed_at=view.executed_at,
        closed_at=view.closed_at,
        policies=default_policies(),
        calendar=_calendar(),
    )
