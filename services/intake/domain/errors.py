"""Errors of intake's domain."""


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
