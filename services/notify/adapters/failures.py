"""The one way an attempt of either sender fails."""


class AttemptFailedError(Exception):
    """One attempt did not reach its receiver, or the receiver did not accept it. `reason`
    is short and holds no message content (it is stored and shown in the delivery log)."""

    def __init__(self, reason: str, status_code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code
