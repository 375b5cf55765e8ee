"""routing's use cases: route what intake received, route by hand, take declines and
execution reports, preview a routing, read the directory."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.adapters.directory_store import DirectoryStore
from services.routing.adapters.repository import RoutingRepository
from services.routing.domain.case import MeasureFacts, OffenceFacts, RoutingCase
from services.routing.domain.decision import PlannedAssignment, RoutingDecision, RuleTrace
from services.routing.domain.directory import Directory
from services.routing.domain.errors import InvalidRoutingError, RoutingNotFoundError
from services.routing.domain.routed_request import RoutedRequest, observable
from services.routing.domain.rules import route
from shared.db import UnitOfWork
from shared.events.catalogue import Payload, RequestReceived, new_event
from shared.events.envelope import CloudEvent
from shared.events.vocabulary import ExecutionResult
from shared.eventstore import StreamAppend, decided_afresh
from shared.request.model import RequestDetails

log = structlog.get_logger("routing")
SOURCE = "/mla/routing"


def case_of(details: RequestDetails, excluded: frozenset[str] = frozenset()) -> RoutingCase:
    """The facts of a request the rules look at (no personal data reaches the engine)."""
    return RoutingCase(
        direction=details.direction,
        channel=details.channel,
        offence_category=details.offence_category,
        offences=tuple(
            OffenceFacts(
                category=o.category,
                max_penalty_years=o.max_penalty_years,
                criminal_code_article=o.criminal_code_article,
                estimated_gain_rsd=o.estimated_gain_rsd,
                public_procurement_value_rsd=o.public_procurement_value_rsd,
                committed_by_senior_official=o.committed_by_senior_official,
                linked_to_organized_crime=o.linked_to_organized_crime,
            )
            for o in details.offences
        ),
        measures=tuple(
            MeasureFacts(index=i, type=m.type, place=m.place)
            for i, m in enumerate(details.measures)
        ),
        excluded_office_ids=excluded,
    )


def _new_assignment_id() -> str:
    return str(uuid.uuid4())


def _office_name(directory: Directory) -> Callable[[str], str]:
    return lambda office_id: directory.office(office_id).name


class Routing:
    """The use cases, holding the directory store (its cache lives as long as the service)."""

    def __init__(self, directories: DirectoryStore) -> None:
        self.directories = directories

    async def handle_events(
        self, session: AsyncSession, events: Sequence[tuple[CloudEvent, Payload]]
    ) -> None:
        """Consumer handler: route what was received; note what intake closed. The events
        of a batch are taken in their order, each request's placement loaded once for them
        all and its new events appended after those of the batch before them, in one
        statement for every request at the end (as many statements as events, each a round
        trip, were most of routing's work). A failure leaves the whole batch to be taken
        again one event at a time (shared/consumer.py)."""
        relevant = [(event, payload) for event, payload in events if observable(type(payload))]
        if not relevant:
            return  # without loading any request: nothing of these kinds changes one
        repo = RoutingRepository(session)
        placements = await repo.find_all(payload.request_id for _, payload in relevant)
        # Each request's version as loaded, and what the batch appends after it, in order.
        changes: dict[str, tuple[int, list[CloudEvent]]] = {}
        directory: Directory | None = None
        for event, payload in relevant:
            routed = placements.setdefault(
                payload.request_id, RoutedRequest(request_id=payload.request_id)
            )
            appended = changes.setdefault(payload.request_id, (routed.version, []))[1]
            if not routed.observe(payload):
                continue
            if isinstance(payload, RequestReceived):
                directory = directory or await self.directories.current(session)
                decision = route(case_of(payload.details), directory)
                routed.route(decision, _office_name(directory), _new_assignment_id)
                with structlog.contextvars.bound_contextvars(
                    event_id=event.id,
                    causation_id=event.causationid,
                    correlation_id=event.correlationid,
                ):
                    log.info(
                        "request.routed" if decision.routed else "request.routing_failed",
                        request_id=payload.request_id,
                        directory_version=directory.version,
                    )
            appended += [event, *_envelopes(routed, event.correlationid, event.id)]
        await repo.save_all(
            [
                StreamAppend(request_id, version, appended)
                for request_id, (version, appended) in changes.items()
                if appended
            ]
        )

    async def preview(
        self, uow: UnitOfWork, details: RequestDetails
    ) -> tuple[RoutingDecision, Directory]:
        """What automatic routing would decide for this request now; nothing is stored."""
        async with uow:
            directory = await self.directories.current(uow.session)
        return route(case_of(details), directory), directory

    async def route_by_hand(
        self,
        uow: UnitOfWork,
        request_id: str,
        plans: list[tuple[str, tuple[int, ...]]] | None,
        *,
        reason: str,
        operator: str | None,
        correlation_id: str | None,
    ) -> RoutedRequest:
        """An operator routes or re-routes: to the offices given, or, with none given, by the
        rules again (after the directory was corrected, say)."""

        async def attempt() -> RoutedRequest:
            async with uow:
                repo = RoutingRepository(uow.session)
                routed = await repo.get(request_id)
                version = routed.version
                directory = await self.directories.current(uow.session)
                if plans is None:
                    assert routed.details is not None
                    decision = route(
                        case_of(routed.details, frozenset(routed.declined_offices)), directory
                    )
                else:
                    assert routed.details is not None
                    decision = _manual_decision(
                        plans, directory, reason, operator, len(routed.details.measures)
                    )
                routed.route(
                    decision,
                    _office_name(directory),
                    _new_assignment_id,
                    manual=True,
                    reason=reason,
                    operator=operator,
                )
                await repo.save(
                    routed, _envelopes(routed, correlation_id, None), expected_version=version
                )
                await uow.commit()
            return routed

        return await decided_afresh(attempt)

    async def decline(
        self,
        uow: UnitOfWork,
        assignment_id: str,
        reason: str,
        correlation_id: str | None,
        office_id: str | None = None,
    ) -> RoutedRequest:
        """The office is not competent: the assignment is withdrawn from it and the request
        re-routed by the rules without that office (or it waits for an operator).
        `office_id`: the office that declines, when it is not the department acting for it."""

        async def decide(routed: RoutedRequest, session: AsyncSession) -> None:
            routed.decline(assignment_id, reason)
            directory = await self.directories.current(session)
            assert routed.details is not None
            decision = route(case_of(routed.details, frozenset(routed.declined_offices)), directory)
            routed.route(
                decision,
                _office_name(directory),
                _new_assignment_id,
                reason=f"re-routed after an office declined: {reason}",
            )

        return await self._change_held(uow, assignment_id, office_id, correlation_id, decide)

    async def report_execution(
        self,
        uow: UnitOfWork,
        assignment_id: str,
        result: ExecutionResult,
        details: str | None,
        correlation_id: str | None,
        office_id: str | None = None,
    ) -> RoutedRequest:
        """The executing office reports on its assignment (`office_id`: the office that
        reports, when it is not the department recording a report received on paper)."""

        async def decide(routed: RoutedRequest, _: AsyncSession) -> None:
            routed.report_execution(assignment_id, result, details)

        return await self._change_held(uow, assignment_id, office_id, correlation_id, decide)

    async def _change_held(
        self,
        uow: UnitOfWork,
        assignment_id: str,
        office_id: str | None,
        correlation_id: str | None,
        decide: Callable[[RoutedRequest, AsyncSession], Awaitable[None]],
    ) -> RoutedRequest:
        """The request that holds the assignment (held by `office_id`, when given), changed
        by `decide`, saved and committed; decided again if another write came first."""

        async def attempt() -> RoutedRequest:
            async with uow:
                repo = RoutingRepository(uow.session)
                routed = _held_by(
                    await repo.get_by_assignment(assignment_id), assignment_id, office_id
                )
                version = routed.version
                await decide(routed, uow.session)
                await repo.save(
                    routed, _envelopes(routed, correlation_id, None), expected_version=version
                )
                await uow.commit()
            return routed

        return await decided_afresh(attempt)

    async def get(self, uow: UnitOfWork, request_id: str) -> RoutedRequest:
        async with uow:
            return await RoutingRepository(uow.session).get(request_id)

    async def directory(self, uow: UnitOfWork) -> Directory:
        async with uow:
            return await self.directories.current(uow.session)


def _held_by(routed: RoutedRequest, assignment_id: str, office_id: str | None) -> RoutedRequest:
    """The request, when `office_id` (if given) holds the assignment; another office's
    assignment is answered exactly as a missing one."""
    state = routed.assignments.get(assignment_id)
    if office_id is not None and (state is None or state.assignment.office_id != office_id):
        raise RoutingNotFoundError(f"no assignment with id {assignment_id}")
    return routed


def _manual_decision(
    plans: list[tuple[str, tuple[int, ...]]],
    directory: Directory,
    reason: str,
    operator: str | None,
    measure_count: int,
) -> RoutingDecision:
    if not plans:
        raise InvalidRoutingError("routing by hand names at least one office")
    for office_id, measures in plans:
        if office_id not in directory.offices:
            raise InvalidRoutingError(
                f"no office {office_id!r} in directory version {directory.version}"
            )
        if not measures:
            raise InvalidRoutingError(f"office {office_id!r} is given no measure")
    _require_each_measure_once(plans, measure_count)
    who = operator or "an operator"
    return RoutingDecision(
        assignments=tuple(
            PlannedAssignment(
                office_id=o,
                measure_indexes=m,
                rule="manual",
                inferred=False,
                basis=f"routed by hand by {who}: {reason}",
            )
            for o, m in plans
        ),
        trace=(RuleTrace(rule="manual", matched=True, reason=f"{who}: {reason}"),),
        directory_version=directory.version,
    )


def _require_each_measure_once(
    plans: list[tuple[str, tuple[int, ...]]], measure_count: int
) -> None:
    given = [index for _, measures in plans for index in measures]
    problems = [
        f"measure {i} does not exist: the request has {measure_count} measure(s), numbered from 0"
        for i in sorted({i for i in given if not 0 <= i < measure_count})
    ]
    problems += [
        f"measure {i} has no office" for i in sorted(set(range(measure_count)) - set(given))
    ]
    problems += [
        f"measure {i} is given to more than one office"
        for i in sorted({i for i in given if given.count(i) > 1})
    ]
    if problems:
        raise InvalidRoutingError(
            "routing by hand gives every measure exactly one office: " + "; ".join(problems)
        )


def _envelopes(
    routed: RoutedRequest, correlation_id: str | None, causation_id: str | None
) -> list[CloudEvent]:
    envelopes = [
        new_event(p, source=SOURCE, correlation_id=correlation_id, causation_id=causation_id)
        for p in routed.pending
    ]
    routed.pending.clear()
    return envelopes
