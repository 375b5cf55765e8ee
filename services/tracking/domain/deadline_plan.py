"""The deadlines of a request as its view stands now, under the default policies."""

from __future__ import annotations

from datetime import date
from functools import cache

from pydantic import BaseModel, ConfigDict

from services.tracking.domain.calendar import BusinessCalendar
from services.tracking.domain.deadlines import Deadline, deadlines_for, default_policies
from services.tracking.domain.view import RequestView
from shared.events.vocabulary import Channel, LegalBasis, MeasureType, Urgency
from shared.request.model import RequestDetails

PlannedDeadline = Deadline


class _Measure(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    type: MeasureType


class _Facts(BaseModel):
    """What of a request's details its deadlines depend on (`DeadlineFacts`), read from
    the view's document at every event: reading the whole of it, sealed personal data
    and all, as `RequestDetails` was a tenth of tracking's work under load."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    channel: Channel
    legal_basis: LegalBasis
    urgency: Urgency = RequestDetails.model_fields["urgency"].default
    requested_date: date | None = None
    measures: tuple[_Measure, ...]


@cache
def _calendar() -> BusinessCalendar:
    return BusinessCalendar()


def plan_deadlines(view: RequestView) -> list[Deadline]:
    """Every deadline the policies give this request; none before it was received."""
    if view.details is None or view.received_at is None:
        return []
    return deadlines_for(
        view.request_id,
        _Facts.model_validate(view.details),
        received_at=view.received_at,
        routed_at=view.routed_at,
        executed_at=view.executed_at,
        closed_at=view.closed_at,
        policies=default_policies(),
        calendar=_calendar(),
    )
