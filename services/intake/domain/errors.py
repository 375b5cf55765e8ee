"""Errors of intake's domain."""

from datetime import datetime


class IntakeError(Exception):
    """Base of every refusal intake's domain makes."""


class IllegalTransitionError(IntakeError):
    """The request's current state does not allow the command: says the state and what is."""

    def __init__(self, message: str, *, state: str, allowed: list[str]) -> None:
        super().__init__(message)
        self.state = state
        self.allowed = allowed


class ExecutionOutstandingError(IllegalTransitionError):
    """A closure that needs every assignment's execution report before intake has them all.

    The reports are routing's facts, which intake learns from the topic: one that its
    caller has seen elsewhere (in tracking, say) may not have reached intake yet."""


class RequestNotFoundError(IntakeError):
    def __init__(self, request_id: str) -> None:
        super().__init__(f"no request with id {request_id}")
        self.request_id = request_id


class RequestTooLargeError(IntakeError):
    """The request, sealed for storage, makes an event larger than the topic carries."""

    def __init__(self, size: int, limit: int, largest: list[tuple[str, int]]) -> None:
        parts = ", ".join(f"{name} ({length:,} bytes)" for name, length in largest)
        super().__init__(
            f"sealed for storage (its personal texts grow by a third), this request takes "
            f"{size:,} bytes, and an event of the lifecycle topic holds at most {limit:,}; "
            f"its largest parts: {parts}. Shorten them, or send part of the request as a "
            "supplementary request (related_requests)"
        )
        self.size = size
        self.limit = limit


class PersonalDataErasedError(IntakeError):
    """The request's personal data was erased already: there is nothing left to erase."""

    def __init__(self, domestic_reference: str, erased_at: datetime) -> None:
        super().__init__(
            f"the personal data of request {domestic_reference} was already erased at "
            f"{erased_at.isoformat()}"
        )
