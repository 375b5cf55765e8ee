"""Errors of routing's domain."""


class RoutingError(Exception):
    """Base of every refusal routing's domain makes."""


class IllegalTransitionError(RoutingError):
    """The placement's current state does not allow the command."""

    def __init__(self, message: str, *, state: str, allowed: list[str]) -> None:
        super().__init__(message)
        self.state = state
        self.allowed = allowed


class RoutingNotFoundError(RoutingError):
    def __init__(self, what: str) -> None:
        super().__init__(what)


class InvalidRoutingError(RoutingError):
    """A manual routing that names an office or a measure that does not exist."""
