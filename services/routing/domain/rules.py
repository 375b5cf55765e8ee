"""The routing engine: which office executes each measure of an incoming request (DOMAIN.md).

Checks come first and can only refuse: an outgoing request, a request without measures, a
temporary transfer of a detained person that did not come ministry to ministry. Then the
placement rules, first match wins, measure by measure:

1. war crimes, 2. organized crime (whole request, nationwide offices);
3. high tech: a cybercrime case goes whole to the high-tech office; in any other case only its
   Budapest measures (preservation, subscriber, traffic data) do, since that office holds the
   channels to providers, while a search or a hearing in the same request stays with the
   office a prosecutor would expect for the offence;
4. anti-corruption department of each measure's appellate area;
5. territorial: higher office above 10 years, basic office otherwise. Penalty not stated:
   the higher office (it can execute or hand down to a basic office it supervises), inferred.

Choices: an office in excluded_office_ids (it declined the request) is never chosen: the rule
says so in the trace and the next rule, or the next territorial level, is tried; every
placement made after a decline is inferred. A basic office that declined, or that the
directory does not know, falls back to the higher office of the territory. A request is
routed whole or not at all: when any measure cannot be placed, there are no assignments and
the failure and the trace name that measure, so that no office starts on half a request.
A nationwide special office missing from the directory fails the request (a defect to fix,
not a reason to hand a war-crimes case to a basic office); an appellate area without an
anti-corruption department leaves its measures to the territorial rule, as before 2018.
"""

from collections.abc import Iterable
from dataclasses import replace

from services.routing.domain.case import MeasureFacts, OffenceFacts, RoutingCase
from services.routing.domain.decision import PlannedAssignment, RoutingDecision, RuleId, RuleTrace
from services.routing.domain.directory import Directory
from services.routing.domain.placement import Placement, Rule, Step, describe
from services.routing.domain.special_rules import high_tech_crime, organized_crime, war_crimes
from services.routing.domain.territorial_rules import anti_corruption, territorial
from shared.events.vocabulary import Channel, Direction, MeasureType

__all__ = [
    "MeasureFacts",
    "OffenceFacts",
    "PlannedAssignment",
    "RoutingCase",
    "RoutingDecision",
    "RuleId",
    "RuleTrace",
    "route",
]

_PLACEMENT_RULES: tuple[Rule, ...] = (
    war_crimes,
    organized_crime,
    high_tech_crime,
    anti_corruption,
    territorial,
)


def route(case: RoutingCase, directory: Directory) -> RoutingDecision:
    """Decide which office executes each measure, keeping the trace of every rule tried."""
    trace: list[RuleTrace] = []
    for check in (_direction_check, _measures_check, _channel_check):
        step = check(case)
        trace.append(step.trace)
        if step.failure is not None:
            return _failed(directory, trace, step.failure)
    return _place(case, directory, trace)


def _direction_check(case: RoutingCase) -> Step:
    if case.direction == Direction.INCOMING:
        return _check(RuleId.DIRECTION_CHECK, None, "incoming request")
    failure = "outgoing request: it is executed abroad, no domestic office to route to"
    return _check(RuleId.DIRECTION_CHECK, failure, failure)


def _measures_check(case: RoutingCase) -> Step:
    indexes = [m.index for m in case.measures]
    if not indexes:
        failure = "the request has no measure to place"
    elif len(set(indexes)) != len(indexes):
        failure = f"measure indexes repeat ({indexes}): measures cannot be told apart"
    else:
        return _check(RuleId.MEASURES_CHECK, None, f"{len(indexes)} measure(s) to place")
    return _check(RuleId.MEASURES_CHECK, failure, failure)


def _channel_check(case: RoutingCase) -> Step:
    transfers = [
        m for m in case.measures if m.type == MeasureType.TEMPORARY_TRANSFER_OF_DETAINED_PERSON
    ]
    if not transfers or case.channel == Channel.MINISTRY_OF_JUSTICE:
        return _check(RuleId.CHANNEL_CHECK, None, f"channel {case.channel} is admissible")
    failure = (
        f"{describe(transfers[0])}: a temporary transfer of a detained person goes ministry "
        f"to ministry, but this request came via {case.channel}"
    )
    return _check(RuleId.CHANNEL_CHECK, failure, failure)


def _check(rule: RuleId, failure: str | None, reason: str) -> Step:
    return Step(RuleTrace(rule, matched=failure is not None, reason=reason), failure=failure)


def _place(case: RoutingCase, directory: Directory, trace: list[RuleTrace]) -> RoutingDecision:
    pending = case.measures
    placements: list[Placement] = []
    unplaced: list[tuple[int, str]] = []
    declined: list[str] = []
    for rule in _PLACEMENT_RULES:
        step = rule(case, directory, pending)
        trace.append(step.trace)
        if step.failure is not None:
            return _failed(directory, trace, step.failure)
        placements += (_after_declines(p, declined) for p in step.placements)
        declined += step.declined
        unplaced += step.unplaced
        done = {p.measure.index for p in step.placements} | {i for i, _ in step.unplaced}
        pending = tuple(m for m in pending if m.index not in done)
        if not pending:
            break
    if unplaced:
        return _failed(directory, trace, _unplaced_failure(unplaced, len(case.measures)))
    return RoutingDecision(_assignments(placements), tuple(trace), directory.version)


def _after_declines(placement: Placement, declined: list[str]) -> Placement:
    # Competence reached by elimination after an office declined deserves a human look.
    if not declined:
        return placement
    doubt = f"placed after {', '.join(declined)} declined"
    return replace(placement, doubts=(*placement.doubts, doubt))


def _unplaced_failure(unplaced: list[tuple[int, str]], total: int) -> str:
    reasons = "; ".join(reason for _, reason in unplaced)
    return (
        f"{len(unplaced)} of {total} measure(s) cannot be placed, and a request is routed "
        f"whole or not at all: {reasons}"
    )


def _failed(directory: Directory, trace: list[RuleTrace], failure: str) -> RoutingDecision:
    return RoutingDecision((), tuple(trace), directory.version, failure=failure)


def _assignments(placements: Iterable[Placement]) -> tuple[PlannedAssignment, ...]:
    """One assignment per office, in the order of each office's first measure."""
    by_office: dict[str, list[Placement]] = {}
    for placement in sorted(placements, key=lambda p: p.measure.index):
        by_office.setdefault(placement.office.id, []).append(placement)
    return tuple(_assignment(office_id, group) for office_id, group in by_office.items())


def _assignment(office_id: str, group: list[Placement]) -> PlannedAssignment:
    bases = dict.fromkeys(_basis(p) for p in group)
    return PlannedAssignment(
        office_id=office_id,
        measure_indexes=tuple(p.measure.index for p in group),
        rule=group[0].rule,
        inferred=any(p.doubts for p in group),
        basis="; ".join(bases),
    )


def _basis(placement: Placement) -> str:
    if not placement.doubts:
        return placement.basis
    return f"{placement.basis} [inferred, to confirm: {'; '.join(placement.doubts)}]"
