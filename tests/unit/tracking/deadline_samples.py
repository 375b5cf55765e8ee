"""What the deadline tests share: a plain request and its variations, the Serbian calendar,
the moments a request is received and routed, and a deadline rule as an operator writes it."""

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from services.tracking.domain.calendar import BusinessCalendar
from services.tracking.domain.deadlines import (
    Deadline,
    PolicySet,
    deadlines_for,
    default_policies,
)
from shared.request.model import EXAMPLE_REQUEST, RequestDetails

BELGRADE = ZoneInfo("Europe/Belgrade")
SERBIA = BusinessCalendar()
RECEIVED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, 10:00 in Belgrade
ROUTED = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)


def measure(kind: str) -> dict[str, str]:
    return {"type": kind, "place": "Beograd"}


def request(**changes: Any) -> RequestDetails:
    plain = {"urgency": "normal", "urgency_reasons": None, "requested_date": None}
    measures = {"measures": [measure("search_and_seizure")]}
    return RequestDetails.model_validate({**EXAMPLE_REQUEST, **plain, **measures, **changes})


URGENT = {"urgency": "urgent", "urgency_reasons": "The data are about to be overwritten."}


def end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=BELGRADE)


def deadlines(
    details: RequestDetails, policies: PolicySet | None = None, **steps: datetime
) -> dict[str, Deadline]:
    found = deadlines_for(
        "req-1",
        details,
        received_at=steps.pop("received_at", RECEIVED),
        policies=policies or default_policies(),
        calendar=SERBIA,
        **steps,
    )
    return {deadline.id: deadline for deadline in found}


def rule(rule_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": rule_id,
        "kind": "answer",
        "start": "received",
        "duration": 60,
        "unit": "calendar_days",
        "satisfied_by": ["closed"],
        "basis": f"test rule {rule_id}",
        "confirmed": True,
        "due_soon": {"days": 1},
        **fields,
    }
