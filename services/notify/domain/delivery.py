"""A delivery: one event for one subscription, its identity, its states and its retries.

A delivery's id is derived from the event's dedup key and the subscription's id, so that it
is the same however often the event arrives; it is also the `webhook-id` receivers dedupe by.

Attempt n (1-based) that fails is tried again after `initial * 2**(n-1)` seconds, capped at
`maximum`, each delay drawn between half and all of that (jitter), so that the deliveries
of one receiver that went down do not all come back at the same instant. The attempt that
reaches `max_attempts` and fails makes the delivery dead.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

_NAMESPACE = uuid.UUID("5d0f6f0e-3c55-4c55-9f0e-6d3e0a7c2b11")


def delivery_id(event_key: str, subscription_id: str) -> str:
    """The stable id of the delivery of one event (`source#id`) to one subscription."""
    return str(uuid.uuid5(_NAMESPACE, f"{event_key}\n{subscription_id}"))


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its first attempt, or rescheduled by hand
    FAILED = "failed"  # an attempt failed; the next one is scheduled
    DELIVERED = "delivered"  # the receiver accepted it (final)
    DEAD = "dead"  # every attempt failed: waits for a manual retry
    CANCELLED = "cancelled"  # its subscription was deleted before it was delivered


OPEN = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)
RETRYABLE = (DeliveryStatus.FAILED, DeliveryStatus.DEAD)


@dataclass(frozen=True)
class RetryPolicy:
    initial_seconds: float
    maximum_seconds: float
    max_attempts: int

    def ceiling(self, attempts: int) -> float:
        """The longest wait after `attempts` failed attempts (before jitter)."""
        return float(min(self.maximum_seconds, self.initial_seconds * 2 ** (attempts - 1)))

    def after_failure(self, attempts: int, jitter: float) -> tuple[DeliveryStatus, float | None]:
        """The status after the `attempts`-th failed attempt, and the delay before the next
        one (None when dead). `jitter` is a number in [0, 1) the caller draws."""
        if attempts >= self.max_attempts:
            return DeliveryStatus.DEAD, None
        ceiling = self.ceiling(attempts)
        return DeliveryStatus.FAILED, ceiling / 2 + ceiling / 2 * jitter
