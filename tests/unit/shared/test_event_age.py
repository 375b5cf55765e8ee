"""The age of an event a consumer handled, counted once what it did is committed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY

from shared.events.catalogue import RequestWithdrawn, new_event
from shared.message_handling import count_outcome as count

TYPE = "mla.request.withdrawn"


def counted(outcome: str, time: datetime) -> tuple[float, float]:
    """How many ages were counted and their sum, after counting one event of `time`."""
    before = [REGISTRY.get_sample_value(f"mla_event_age_seconds_{part}", {"type": TYPE}) or 0.0
              for part in ("count", "sum")]  # fmt: skip
    event = new_event(RequestWithdrawn(request_id="r-1"), source="/mla/test")
    count(event.model_copy(update={"time": time}), outcome)
    after = [REGISTRY.get_sample_value(f"mla_event_age_seconds_{part}", {"type": TYPE}) or 0.0
             for part in ("count", "sum")]  # fmt: skip
    return after[0] - before[0], after[1] - before[1]


def test_an_event_handled_counts_its_age_from_its_time() -> None:
    count, age = counted("handled", datetime.now(UTC) - timedelta(seconds=30))
    assert count == 1 and 30 <= age < 35


def test_an_event_passed_over_or_seen_before_counts_no_age() -> None:
    for outcome in ("ignored", "duplicate", "dead-lettered"):
        assert counted(outcome, datetime.now(UTC) - timedelta(seconds=30)) == (0, 0)


def test_a_time_without_an_offset_is_taken_as_utc_not_a_failure() -> None:
    naive = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=10)
    count, age = counted("handled", naive)
    assert count == 1 and 10 <= age < 15


def test_an_event_from_a_clock_ahead_counts_as_no_age_rather_than_a_negative_one() -> None:
    assert counted("handled", datetime.now(UTC) + timedelta(seconds=5)) == (1, 0)
