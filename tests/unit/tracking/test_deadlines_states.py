"""When the monitor must warn: how a deadline moves from on track to due soon to overdue,
when it is met, which alerts it owes (once each, by a stable id), and that a moment without
a time zone is refused."""

from datetime import UTC, datetime, timedelta

import pytest

from services.tracking.domain.deadlines import DeadlineState, state_of, thresholds_crossed
from tests.unit.tracking.deadline_samples import ROUTED, deadlines, request


def test_a_deadline_goes_from_on_track_to_due_soon_to_overdue_as_time_passes() -> None:
    acknowledge = deadlines(request())["req-1:acknowledge"]  # due 9 March, due soon 2 days before

    assert state_of(acknowledge, datetime(2026, 3, 4, 12, tzinfo=UTC)) is DeadlineState.ON_TRACK
    assert state_of(acknowledge, datetime(2026, 3, 8, 12, tzinfo=UTC)) is DeadlineState.DUE_SOON
    assert state_of(acknowledge, datetime(2026, 3, 9, 22, tzinfo=UTC)) is DeadlineState.DUE_SOON
    assert state_of(acknowledge, datetime(2026, 3, 9, 23, tzinfo=UTC)) is DeadlineState.OVERDUE


def test_a_deadline_is_met_once_the_step_it_guards_has_happened() -> None:
    acknowledge = deadlines(request(), routed_at=ROUTED)["req-1:acknowledge"]

    assert state_of(acknowledge, datetime(2026, 3, 20, tzinfo=UTC)) is DeadlineState.MET
    assert thresholds_crossed(acknowledge, datetime(2026, 3, 20, tzinfo=UTC)) == []


def test_the_monitor_owes_approaching_then_breached() -> None:
    acknowledge = deadlines(request())["req-1:acknowledge"]

    assert thresholds_crossed(acknowledge, datetime(2026, 3, 4, tzinfo=UTC)) == []
    assert thresholds_crossed(acknowledge, datetime(2026, 3, 8, tzinfo=UTC)) == ["approaching"]
    assert thresholds_crossed(acknowledge, datetime(2026, 3, 12, tzinfo=UTC)) == [
        "approaching",
        "breached",
    ]


def test_a_step_that_came_late_leaves_the_breach_on_record() -> None:
    late = datetime(2026, 3, 12, 8, tzinfo=UTC)
    acknowledge = deadlines(request(), routed_at=late)["req-1:acknowledge"]

    assert state_of(acknowledge, datetime(2026, 3, 13, tzinfo=UTC)) is DeadlineState.MET
    assert thresholds_crossed(acknowledge, datetime(2026, 3, 13, tzinfo=UTC)) == [
        "approaching",
        "breached",
    ]


def test_deadline_ids_are_stable_so_each_alert_is_emitted_once() -> None:
    first = deadlines(request(), routed_at=ROUTED)
    again = deadlines(request(), routed_at=ROUTED, executed_at=ROUTED + timedelta(days=30))

    assert list(first) == list(again) == ["req-1:acknowledge", "req-1:decide", "req-1:execute"]


def test_a_moment_without_a_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="received_at must be timezone-aware"):
        deadlines(request(), received_at=datetime(2026, 3, 2, 9, 0))
