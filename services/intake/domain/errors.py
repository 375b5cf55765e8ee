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


class RequestNotFoundError(IntakeError):
    def __init__(self, request_id: str) -> None:
        super().__init__(f"no request with id {request_id}")
        self.request_id = request_id


class PersonalDataErasedError(IntakeError):
    """The request's personal data was erased already: there is nothing left to erase."""

    def __init__(self, domestic_reference: str, erased_at: datetime) -> None:
        super().__init__(
            f"the personal data of request {domestic_reference} was already erased at "
            f"{erased_at.isoformat()}"
        )
