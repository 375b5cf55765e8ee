"""The assistance request, event-sourced, as the boundary with whoever asked.

intake decides three things: a request is received, withdrawn, closed. It also observes
what routing reports (assignments made, executed, declined), because closing as completed
needs every assignment executed. State is only ever changed by applying an event, so the
same `apply` rebuilds a request from its stream and moves it forward after a command.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from services.intake.domain.errors import (
    ExecutionOutstandingError,
    IllegalTransitionError,
    PersonalDataErasedError,
)
from shared.events.catalogue import (
    AssignmentDeclined,
    Payload,
    PersonalDataErased,
    RequestClosed,
    RequestExecuted,
    RequestReceived,
    RequestRouted,
    RequestWithdrawn,
    RoutingFailed,
)
from shared.events.vocabulary import ErasureGround, ExecutionResult, Outcome
from shared.request.model import RequestDetails


class Status(StrEnum):
    RECEIVED = "received"
    ROUTED = "routed"
    ROUTING_FAILED = "routing_failed"
    EXECUTED = "executed"
    CLOSED = "closed"


@dataclass
class AssistanceRequest:
    """One request's stream folded into its current state."""

    id: str
    version: int = 0
    domestic_reference: str = ""
    # The requesting authority that submitted it (None: the department, e.g. on paper).
    authority: str | None = None
    received_at: datetime | None = None
    details: RequestDetails | None = None
    status: Status = Status.RECEIVED
    # assignment id -> its reported result (None while it has not reported)
    assignments: dict[str, ExecutionResult | None] = field(default_factory=dict)
    outcome: Outcome | None = None
    # When its data key was destroyed: its sealed personal data is unreadable since.
    personal_data_erased_at: datetime | None = None
    pending: list[Payload] = field(default_factory=list)

    @classmethod
    def receive(
        cls,
        request_id: str,
        domestic_reference: str,
        details: RequestDetails,
        now: datetime,
        authority: str | None = None,
    ) -> AssistanceRequest:
        request = cls(id=request_id)
        request._record(
            RequestReceived(
                request_id=request_id,
                domestic_reference=domestic_reference,
                received_at=now,
                details=details,
                authority=authority,
            )
        )
        return request

    @classmethod
    def rehydrate(cls, request_id: str, history: list[Payload]) -> AssistanceRequest:
        request = cls(id=request_id)
        for payload in history:
            request.apply(payload)
        return request

    def withdraw(self, reason: str | None) -> None:
        """The requester takes the request back: it is closed with outcome `withdrawn`."""
        self._refuse_if_closed("withdraw")
        self._record(RequestWithdrawn(request_id=self.id, reason=reason))
        self._record(RequestClosed(request_id=self.id, outcome=Outcome.WITHDRAWN, grounds=reason))

    def close(self, outcome: Outcome, grounds: str | None, answer_summary: str | None) -> None:
        """Close with the answer that goes back to the requester."""
        self._refuse_if_closed("close")
        if outcome is Outcome.REFUSED and not grounds:
            raise IllegalTransitionError(
                "a refusal must state its grounds", state=self.status, allowed=self.allowed()
            )
        if outcome in (Outcome.COMPLETED, Outcome.PARTIALLY_COMPLETED):
            self._require_execution(outcome)
        self._record(
            RequestClosed(
                request_id=self.id, outcome=outcome, grounds=grounds, answer_summary=answer_summary
            )
        )

    def erase_personal_data(
        self,
        erased_by: str,
        legal_ground: ErasureGround,
        case_reference: str | None,
        now: datetime,
    ) -> None:
        """Record that the request's personal data was erased (its key destroyed). Allowed
        in every state: retention ends long after closure, and the rest of the record stays."""
        if self.personal_data_erased_at is not None:
            raise PersonalDataErasedError(self.domestic_reference, self.personal_data_erased_at)
        self._record(
            PersonalDataErased(
                request_id=self.id,
                erased_at=now,
                erased_by=erased_by,
                legal_ground=legal_ground,
                case_reference=case_reference,
            )
        )

    def observe(self, payload: Payload) -> bool:
        """Take in a fact reported by routing; False when it changes nothing here."""
        if self.status is Status.CLOSED or not isinstance(payload, OBSERVED):
            return False
        self.apply(payload)
        return True

    def allowed(self) -> list[str]:
        """The commands the current state allows, for error messages and the API."""
        if self.status is Status.CLOSED:
            return []
        allowed = ["withdraw", "close as refused", "close as withdrawn"]
        if self.status is Status.EXECUTED:
            allowed.append("close as partially_completed")
            if self._all_executed():
                allowed.append("close as completed")
        return allowed

    def apply(self, payload: Payload) -> None:
        match payload:
            case RequestReceived():
                self.domestic_reference = payload.domestic_reference
                self.authority = payload.authority
                self.received_at = payload.received_at
                self.details = payload.details
                self.status = Status.RECEIVED
            case RequestRouted():
                previous = self.assignments
                self.assignments = {
                    a.assignment_id: previous.get(a.assignment_id) for a in payload.assignments
                }
                self.status = Status.EXECUTED if self._all_reported() else Status.ROUTED
            case RoutingFailed():
                self.status = Status.ROUTING_FAILED
            case AssignmentDeclined():
                self.assignments.pop(payload.assignment_id, None)
            case RequestExecuted():
                self.assignments[payload.assignment_id] = payload.result
                # A measure waiting for an office (routing_failed) keeps the request open.
                if self._all_reported() and self.status is not Status.ROUTING_FAILED:
                    self.status = Status.EXECUTED
            case RequestClosed():
                self.status = Status.CLOSED
                self.outcome = payload.outcome
            case RequestWithdrawn():
                pass  # the closure that follows it changes the state
            case PersonalDataErased():
                self.personal_data_erased_at = payload.erased_at
        self.version += 1

    def _record(self, payload: Payload) -> None:
        self.apply(payload)
        self.pending.append(payload)

    def _refuse_if_closed(self, action: str) -> None:
        if self.status is Status.CLOSED:
            raise IllegalTransitionError(
                f"cannot {action} request {self.domestic_reference}: it is already closed "
                f"(outcome {self.outcome}); a closed request accepts no further commands",
                state=self.status,
                allowed=[],
            )

    def _require_execution(self, outcome: Outcome) -> None:
        waiting = [a for a, result in self.assignments.items() if result is None]
        # Only EXECUTED means every measure has an office that reported: after a decline or a
        # failed re-route, the remaining reports do not cover the whole request.
        if self.status is not Status.EXECUTED or waiting:
            raise ExecutionOutstandingError(
                f"cannot close request {self.domestic_reference} as {outcome}: it is "
                f"{self.status} and {len(waiting)} of {len(self.assignments)} assignment(s) "
                "have not reported execution",
                state=self.status,
                allowed=self.allowed(),
            )
        if outcome is Outcome.COMPLETED and not self._all_executed():
            raise IllegalTransitionError(
                f"cannot close request {self.domestic_reference} as completed: not every "
                "assignment was fully executed; close it as partially_completed",
                state=self.status,
                allowed=self.allowed(),
            )

    def _all_reported(self) -> bool:
        return bool(self.assignments) and all(r is not None for r in self.assignments.values())

    def _all_executed(self) -> bool:
        return self._all_reported() and all(
            r is ExecutionResult.EXECUTED for r in self.assignments.values()
        )


# routing's facts that intake keeps in the request's stream (not republished).
OBSERVED = (RequestRouted, RoutingFailed, AssignmentDeclined, RequestExecuted)


def observable(kind: type[Payload]) -> bool:
    """Whether a fact of this kind can change a request here at all (intake's own events
    are in the request's stream already): the consumer skips the others unread."""
    return issubclass(kind, OBSERVED)
