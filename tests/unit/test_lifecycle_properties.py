"""Whatever operators, offices and requesters do, and in whatever order, a request never ends
up where the lifecycle forbids it, a refused command writes nothing, and tracking's read model
is always the replay of the events.

intake's request and routing's placement are driven together as the running system drives
them: what routing decides, intake observes; what intake closes, routing observes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson
from hypothesis import event, example, given, note, settings
from hypothesis import strategies as st

from services.intake.domain.errors import IllegalTransitionError as IntakeRefusal
from services.intake.domain.request import AssistanceRequest
from services.intake.domain.request import Status as IntakeStatus
from services.routing.domain.decision import PlannedAssignment, RoutingDecision, RuleTrace
from services.routing.domain.errors import (
    IllegalTransitionError,
    InvalidRoutingError,
    RoutingNotFoundError,
)
from services.routing.domain.routed_request import RoutedRequest
from services.routing.domain.routed_request import Status as RoutingStatus
from services.tracking.domain.view import RequestView, fold, from_document, project, to_document
from shared.events.catalogue import Payload, RequestClosed
from shared.events.vocabulary import ExecutionResult, Outcome
from shared.request.model import EXAMPLE_REQUEST, RequestDetails

REQUEST_ID = "req-1"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DETAILS = RequestDetails.model_validate(EXAMPLE_REQUEST)  # two measures: 0 and 1
OFFICES = ("bjt-subotica", "bjt-novi-sad", "vjt-novi-sad")
ROUTING_REFUSALS = (IllegalTransitionError, InvalidRoutingError, RoutingNotFoundError)
NOT_AN_ASSIGNMENT = "a-unknown"


# The commands people give; each names its target loosely and the system resolves it.
@dataclass(frozen=True)
class Route:
    plans: tuple[tuple[str, tuple[int, ...]], ...]  # () means no office fits: the decision fails
    by_hand: bool
    reason: str | None


@dataclass(frozen=True)
class Decline:
    pick: int  # which of routing's assignments, in order, or one past them: one that does not exist


@dataclass(frozen=True)
class Report:
    pick: int
    result: ExecutionResult


@dataclass(frozen=True)
class Withdraw:
    reason: str | None


@dataclass(frozen=True)
class Close:
    outcome: Outcome
    grounds: str | None


Command = Route | Decline | Report | Withdraw | Close

# Measure 2 does not exist: an operator's typo that must be refused.
measure_indexes = st.lists(st.sampled_from((0, 1) * 4 + (2,)), min_size=1, max_size=2, unique=True)
plans = st.dictionaries(
    st.sampled_from(OFFICES), measure_indexes.map(tuple), min_size=1, max_size=3
).map(lambda by_office: tuple(sorted(by_office.items())))
maybe_text = st.sampled_from(("because", "because", "because", None, ""))
routes = st.builds(Route, plans=plans, by_hand=st.booleans(), reason=maybe_text)
failing_routes = st.builds(Route, plans=st.just(()), by_hand=st.booleans(), reason=maybe_text)
reports = st.builds(Report, pick=st.integers(0, 3), result=st.sampled_from(ExecutionResult))
declines = st.builds(Decline, pick=st.integers(0, 3))
withdrawals = st.builds(Withdraw, reason=maybe_text)
closures = st.builds(Close, outcome=st.sampled_from(Outcome), grounds=maybe_text)
completions = st.builds(Close, outcome=st.just(Outcome.COMPLETED), grounds=st.none())
# Closing ends the story, so it comes up less often than the steps that lead to it.
WEIGHTED_STEPS = (
    (routes,) * 6
    + (reports,) * 14
    + (declines,) * 3
    + (completions,) * 5
    + (failing_routes, closures, withdrawals)
)
commands = st.lists(
    st.sampled_from(WEIGHTED_STEPS).flatmap(lambda step: step), min_size=6, max_size=20
)

# Stories worth running every time, whatever the generator comes up with.
SPLIT = (("bjt-novi-sad", (1,)), ("bjt-subotica", (0,)))
EXECUTED_BY_BOTH = [
    Route(SPLIT, by_hand=False, reason=None),
    Close(Outcome.COMPLETED, None),
    Report(0, ExecutionResult.EXECUTED),
    Report(1, ExecutionResult.EXECUTED),
    Report(1, ExecutionResult.EXECUTED),
    Close(Outcome.COMPLETED, None),
    Withdraw("too late"),
]
DECLINED_AND_REROUTED = [
    Route((), by_hand=False, reason=None),
    Route(SPLIT, by_hand=True, reason=None),
    Route(SPLIT, by_hand=True, reason="placed by hand"),
    Report(1, ExecutionResult.EXECUTED),
    Decline(0),
    Route((("bjt-subotica", (0, 1)),), by_hand=False, reason=None),
    Report(0, ExecutionResult.PARTIALLY_EXECUTED),
    Close(Outcome.COMPLETED, None),
    Close(Outcome.PARTIALLY_COMPLETED, None),
]


class System:
    """intake and routing for one request, with the lifecycle topic between them."""

    def __init__(self) -> None:
        self.intake = AssistanceRequest.receive(REQUEST_ID, "MLA-2026-0001", DETAILS, T0)
        self.routing = RoutedRequest(request_id=REQUEST_ID)
        self.topic: list[Payload] = []  # every event of the request, in order
        self.intake_stream: list[Payload] = []  # what intake stores for the request
        self.refusals: list[Exception] = []
        self.assignment_ids = (f"a-{n}" for n in range(1, 1000))
        self._publish_intake()

    def run(self, command: Command) -> None:
        at_intake = isinstance(command, Withdraw | Close)
        aggregate: AssistanceRequest | RoutedRequest = self.intake if at_intake else self.routing
        version = aggregate.version
        try:
            self._give(command)
        except (IntakeRefusal, *ROUTING_REFUSALS) as refusal:
            note(f"{command} refused: {refusal}")
            assert aggregate.version == version, "a refused command changed the state"
            assert aggregate.pending == [], "a refused command left something to write"
            self.refusals.append(refusal)
            return
        note(f"{command} -> {[type(p).__name__ for p in aggregate.pending]}")
        if at_intake:
            self._publish_intake()
        else:
            self._publish_routing()

    def _give(self, command: Command) -> None:
        match command:
            case Route(plans=(), by_hand=by_hand, reason=reason):
                failure = RoutingDecision(
                    (), (RuleTrace("territorial", False, "no office"),), 1, "no office"
                )
                self.routing.route(failure, str.upper, self._new_id, manual=by_hand, reason=reason)
            case Route(plans=plans, by_hand=by_hand, reason=reason):
                planned = tuple(
                    PlannedAssignment(office, indexes, "territorial_basic", False, "seat")
                    for office, indexes in plans
                )
                decision = RoutingDecision(planned, (RuleTrace("territorial", True, "placed"),), 1)
                self.routing.route(decision, str.upper, self._new_id, manual=by_hand, reason=reason)
            case Decline(pick=pick):
                self.routing.decline(self._assignment(pick), "not competent")
            case Report(pick=pick, result=result):
                self.routing.report_execution(self._assignment(pick), result, None)
            case Withdraw(reason=reason):
                self.intake.withdraw(reason)
            case Close(outcome=outcome, grounds=grounds):
                self.intake.close(outcome, grounds, None)

    def _new_id(self) -> str:
        return next(self.assignment_ids)

    def _assignment(self, pick: int) -> str:
        existing = [*self.routing.assignments, NOT_AN_ASSIGNMENT]
        return existing[pick % len(existing)]

    def _publish_intake(self) -> None:
        for payload in self.intake.pending:
            self.topic.append(payload)
            self.intake_stream.append(payload)
            self.routing.observe(payload)
        self.intake.pending.clear()
        assert self.routing.pending == [], "observing intake's facts writes nothing to publish"

    def _publish_routing(self) -> None:
        for payload in self.routing.pending:
            self.topic.append(payload)
            if self.intake.observe(payload):
                self.intake_stream.append(payload)
        self.routing.pending.clear()


def assert_nothing_forbidden(system: System) -> None:
    intake, routing, topic = system.intake, system.routing, system.topic
    closures = [p for p in topic if isinstance(p, RequestClosed)]
    assert len(closures) <= 1, "closed more than once"
    if closures:
        assert topic[-1] is closures[0], "an event followed the closure"
        assert intake.status is IntakeStatus.CLOSED
        assert routing.status is RoutingStatus.CLOSED
        assert intake.allowed() == routing.allowed() == []
    if intake.outcome is Outcome.COMPLETED:
        assert intake.assignments, "completed with no office ever assigned"
        assert set(intake.assignments.values()) == {ExecutionResult.EXECUTED}
        assert {s.result for s in routing.assignments.values()} == {ExecutionResult.EXECUTED}
    # the two services hold the same picture of the request
    assert intake.assignments == {a: s.result for a, s in routing.assignments.items()}
    expected = (
        RoutingStatus.AWAITING_ROUTING if intake.status is IntakeStatus.RECEIVED else intake.status
    )
    assert routing.status == expected
    # and each one, read back from what it stored, is the one it had
    rebuilt = AssistanceRequest.rehydrate(REQUEST_ID, system.intake_stream)
    assert (rebuilt.version, rebuilt.status, rebuilt.assignments, rebuilt.outcome) == (
        intake.version,
        intake.status,
        intake.assignments,
        intake.outcome,
    )


@settings(max_examples=150, deadline=None, database=None)
@given(commands)
@example(EXECUTED_BY_BOTH)
@example(DECLINED_AND_REROUTED)
def test_no_sequence_of_commands_reaches_a_forbidden_state(script: list[Command]) -> None:
    system = System()

    for command in script:
        system.run(command)
        assert_nothing_forbidden(system)
    event(
        f"ends {system.intake.status}"
        + (f" as {system.intake.outcome}" if system.intake.outcome else "")
    )


def stored_and_loaded(view: RequestView) -> RequestView:
    return from_document(orjson.loads(orjson.dumps(to_document(view))))


@settings(max_examples=150, deadline=None, database=None)
@given(commands, st.data())
def test_tracking_kept_up_event_by_event_is_the_replay_of_the_events(
    script: list[Command], data: st.DataObject
) -> None:
    system = System()
    for command in script:
        system.run(command)
    at = T0
    events: list[tuple[Payload, datetime]] = []
    for payload in system.topic:
        at += timedelta(minutes=data.draw(st.integers(0, 3 * 24 * 60), label="minutes later"))
        events.append((payload, at))

    view: RequestView | None = None
    in_memory: RequestView | None = None
    for payload, time in events:
        view = stored_and_loaded(project(view, payload, time))
        in_memory = project(in_memory, payload, time)
        assert view == in_memory

    assert view == fold(events)
    assert view is not None
    assert view.event_count == len(events)
    if system.intake.status is IntakeStatus.CLOSED:
        assert (view.status, view.outcome) == ("closed", system.intake.outcome)
