"""Where a request is being executed: its assignments, one per executing office.

Event-sourced like intake's request. routing decides `routed`, `routing_failed`,
`assignment_declined` and `executed`; it observes `received` (what to route) and
`withdrawn` / `closed` (nothing more may happen). Every routing, automatic or by hand,
is reconciled with the assignments that already exist: an office that keeps the same
measures keeps its assignment, and an assignment that reported stays on the record, so a
re-route only touches what changed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from services.routing.domain.decision import PlannedAssignment, RoutingDecision
from services.routing.domain.errors import (
    IllegalTransitionError,
    InvalidRoutingError,
    RoutingNotFoundError,
)
from shared.events.catalogue import (
    Assignment,
    AssignmentDeclined,
    MeasureRef,
    Payload,
    RequestClosed,
    RequestExecuted,
    RequestReceived,
    RequestRouted,
    RequestWithdrawn,
    RoutingFailed,
    RuleStep,
)
from shared.events.vocabulary import ExecutionResult
from shared.request.model import RequestDetails


class Status(StrEnum):
    AWAITING_ROUTING = "awaiting_routing"
    ROUTED = "routed"
    ROUTING_FAILED = "routing_failed"
    EXECUTED = "executed"
    CLOSED = "closed"


@dataclass
class AssignmentState:
    assignment: Assignment
    result: ExecutionResult | None = None


@dataclass
class RoutedRequest:
    request_id: str
    version: int = 0
    details: RequestDetails | None = None
    status: Status = Status.AWAITING_ROUTING
    assignments: dict[str, AssignmentState] = field(default_factory=dict)
    declined_offices: set[str] = field(default_factory=set)
    last_trace: list[RuleStep] = field(default_factory=list)
    last_failure: str | None = None
    directory_version: int | None = None
    routed_before: bool = False
    pending: list[Payload] = field(default_factory=list)

    @classmethod
    def rehydrate(cls, request_id: str, history: Sequence[Payload]) -> RoutedRequest:
        routed = cls(request_id=request_id)
        for payload in history:
            routed.apply(payload)
        return routed

    def route(
        self,
        decision: RoutingDecision,
        office_name: Callable[[str], str],
        new_id: Callable[[], str],
        *,
        manual: bool = False,
        reason: str | None = None,
        operator: str | None = None,
    ) -> None:
        """Place the request as `decision` says, or record that no office fits."""
        self._refuse_if_closed("route")
        if self.details is None:
            raise RoutingNotFoundError(f"request {self.request_id} has not been received")
        if manual and not reason:
            raise InvalidRoutingError("routing by hand needs a reason")
        trace = [RuleStep(rule=t.rule, matched=t.matched, reason=t.reason) for t in decision.trace]
        if decision.failure is not None:
            self._record(
                RoutingFailed(
                    request_id=self.request_id,
                    reason=decision.failure,
                    directory_version=decision.directory_version,
                    trace=trace,
                )
            )
            return
        self._record(
            RequestRouted(
                request_id=self.request_id,
                assignments=self._reconcile(decision.assignments, office_name, new_id),
                directory_version=decision.directory_version,
                trace=trace,
                mode="manual" if manual else "automatic",
                rerouted=self.routed_before,
                reason=reason,
                operator=operator,
            )
        )

    def decline(self, assignment_id: str, reason: str) -> None:
        """The office of this assignment is not competent; the caller re-routes next."""
        state = self._active(assignment_id, "decline an assignment of")
        if state.result is not None:
            raise IllegalTransitionError(
                f"assignment {assignment_id} already reported {state.result}; an office that "
                "reported execution cannot decline it",
                state=self.status,
                allowed=self.allowed(),
            )
        self._record(
            AssignmentDeclined(
                request_id=self.request_id,
                assignment_id=assignment_id,
                office_id=state.assignment.office_id,
                reason=reason,
            )
        )

    def report_execution(
        self, assignment_id: str, result: ExecutionResult, details: str | None
    ) -> None:
        """The executing office reports what it did with its assignment."""
        state = self._active(assignment_id, "report execution for")
        if state.result is not None:
            raise IllegalTransitionError(
                f"assignment {assignment_id} has already reported {state.result}; a report "
                "is made once",
                state=self.status,
                allowed=self.allowed(),
            )
        outstanding = sum(1 for other in self.assignments.values() if other.result is None) - 1
        self._record(
            RequestExecuted(
                request_id=self.request_id,
                assignment_id=assignment_id,
                office_id=state.assignment.office_id,
                result=result,
                details=details,
                outstanding=outstanding,
            )
        )

    def observe(self, payload: Payload) -> bool:
        """Take in intake's facts; False when the payload changes nothing here."""
        if isinstance(payload, RequestReceived):
            if self.version:
                return False
        elif not isinstance(payload, OBSERVED) or self.status is Status.CLOSED:
            return False
        self.apply(payload)
        return True

    def allowed(self) -> list[str]:
        """The commands the current state allows, for error messages."""
        if self.status is Status.CLOSED:
            return []
        allowed = ["route by hand"]
        if any(s.result is None for s in self.assignments.values()):
            allowed += ["report execution", "decline an assignment"]
        return allowed

    def apply(self, payload: Payload) -> None:
        match payload:
            case RequestReceived():
                self.details = payload.details
            case RequestRouted():
                previous = self.assignments
                self.assignments = {
                    a.assignment_id: AssignmentState(
                        a, previous[a.assignment_id].result if a.assignment_id in previous else None
                    )
                    for a in payload.assignments
                }
                self.last_trace, self.last_failure = list(payload.trace), None
                self.directory_version = payload.directory_version
                self.routed_before = True
                self.status = Status.EXECUTED if self._all_reported() else Status.ROUTED
            case RoutingFailed():
                self.last_trace, self.last_failure = list(payload.trace), payload.reason
                self.directory_version = payload.directory_version
                self.status = Status.ROUTING_FAILED
            case AssignmentDeclined():
                self.assignments.pop(payload.assignment_id, None)
                self.declined_offices.add(payload.office_id)
            case RequestExecuted():
                self.assignments[payload.assignment_id].result = payload.result
                # A measure waiting for an office (routing_failed) keeps the request open.
                if self._all_reported() and self.status is not Status.ROUTING_FAILED:
                    self.status = Status.EXECUTED
            case RequestClosed() | RequestWithdrawn():
                self.status = Status.CLOSED
        self.version += 1

    def _reconcile(
        self,
        plans: Sequence[PlannedAssignment],
        office_name: Callable[[str], str],
        new_id: Callable[[], str],
    ) -> list[Assignment]:
        assert self.details is not None
        existing = {
            (s.assignment.office_id, tuple(s.assignment.measures)): s.assignment
            for s in self.assignments.values()
        }
        assignments = []
        for plan in plans:
            measures = [self._measure(index) for index in plan.measure_indexes]
            kept = existing.get((plan.office_id, tuple(measures)))
            assignments.append(
                Assignment(
                    assignment_id=kept.assignment_id if kept is not None else new_id(),
                    office_id=plan.office_id,
                    office_name=office_name(plan.office_id),
                    measures=measures,
                    rule=plan.rule,
                    basis=plan.basis,
                    inferred=plan.inferred,
                )
            )
        # An assignment that already reported stays on the record whatever the new plan says.
        planned = {a.assignment_id for a in assignments}
        assignments += [
            s.assignment
            for s in self.assignments.values()
            if s.result is not None and s.assignment.assignment_id not in planned
        ]
        return assignments

    def _measure(self, index: int) -> MeasureRef:
        assert self.details is not None
        if not 0 <= index < len(self.details.measures):
            raise InvalidRoutingError(
                f"measure {index} does not exist: the request has "
                f"{len(self.details.measures)} measure(s), numbered from 0"
            )
        measure = self.details.measures[index]
        return MeasureRef(index=index, type=measure.type, place=measure.place)

    def _active(self, assignment_id: str, action: str) -> AssignmentState:
        self._refuse_if_closed(action)
        state = self.assignments.get(assignment_id)
        if state is None:
            raise RoutingNotFoundError(
                f"request {self.request_id} has no active assignment {assignment_id}"
            )
        return state

    def _refuse_if_closed(self, action: str) -> None:
        if self.status is Status.CLOSED:
            raise IllegalTransitionError(
                f"cannot {action} request {self.request_id}: it is closed; a closed request "
                "accepts no further commands",
                state=self.status,
                allowed=[],
            )

    def _all_reported(self) -> bool:
        return bool(self.assignments) and all(
            s.result is not None for s in self.assignments.values()
        )

    def _record(self, payload: Payload) -> None:
        self.apply(payload)
        self.pending.append(payload)


# intake's facts that routing keeps in the request's stream (not republished).
OBSERVED = (RequestReceived, RequestWithdrawn, RequestClosed)


def observable(kind: type[Payload]) -> bool:
    """Whether a fact of this kind can change a request here at all (those routing reports
    itself are in the request's stream already): the consumer skips the others unread."""
    return issubclass(kind, OBSERVED)
