"""A delivery's identity and its retry schedule."""

from __future__ import annotations

from services.notify.domain.delivery import DeliveryStatus, RetryPolicy, delivery_id

POLICY = RetryPolicy(initial_seconds=60, maximum_seconds=3600, max_attempts=8)


def test_a_delivery_has_the_same_id_however_often_its_event_arrives() -> None:
    first = delivery_id("/mla/intake#e1", "sub-1")
    assert first == delivery_id("/mla/intake#e1", "sub-1")
    assert first != delivery_id("/mla/intake#e1", "sub-2")
    assert first != delivery_id("/mla/routing#e1", "sub-1")


def test_the_wait_doubles_after_each_failure_up_to_the_maximum() -> None:
    ceilings = [POLICY.ceiling(n) for n in range(1, 8)]
    assert ceilings == [60, 120, 240, 480, 960, 1920, 3600]


def test_jitter_draws_the_wait_between_half_and_all_of_the_ceiling() -> None:
    assert POLICY.after_failure(3, 0.0) == (DeliveryStatus.FAILED, 120)
    status, delay = POLICY.after_failure(3, 0.999)
    assert status is DeliveryStatus.FAILED and delay is not None and 239 < delay < 240


def test_the_last_failed_attempt_makes_the_delivery_dead() -> None:
    assert POLICY.after_failure(7, 0.5)[0] is DeliveryStatus.FAILED
    assert POLICY.after_failure(8, 0.5) == (DeliveryStatus.DEAD, None)
    assert RetryPolicy(1, 1, max_attempts=1).after_failure(1, 0.5) == (DeliveryStatus.DEAD, None)
