"""Errors of notify's domain.

NotifyError                     a refusal notify makes
 ├── InvalidSubscriptionError   a subscription that breaks a rule (names the field)
 │    └── TargetRefusedError    a webhook URL notify will not call
 ├── SubscriptionNotFoundError
 ├── DeliveryNotFoundError
 └── DeliveryNotRetryableError  a delivery whose state does not allow a manual retry
"""

from __future__ import annotations


class NotifyError(Exception):
    """Base of every refusal notify makes."""


class InvalidSubscriptionError(NotifyError):
    """A subscription that breaks a rule; `field` is the offending field of the request body."""

    def __init__(self, field: str, message: str, *, kind: str = "invalid") -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.kind = kind


class TargetRefusedError(InvalidSubscriptionError):
    """A webhook target that is not http(s), or that resolves to an address notify does not
    call (private, loopback, link-local, multicast, ...)."""

    def __init__(self, message: str) -> None:
        super().__init__("url", message, kind="target_refused")


class SubscriptionNotFoundError(NotifyError):
    def __init__(self, subscription_id: str) -> None:
        super().__init__(f"no subscription with id {subscription_id}")


class DeliveryNotFoundError(NotifyError):
    def __init__(self, delivery_id: str) -> None:
        super().__init__(f"no delivery with id {delivery_id}")


class DeliveryNotRetryableError(NotifyError):
    def __init__(self, delivery_id: str, status: str, why: str) -> None:
        super().__init__(f"delivery {delivery_id} is {status}: {why}")
        self.status = status
