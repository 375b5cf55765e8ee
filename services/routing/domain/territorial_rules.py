"""Rules 4 and 5: offices chosen by the place where each measure is carried out.

Both work measure by measure, so measures in several territories end with several offices.
"""

from dataclasses import dataclass

from services.routing.domain.case import MeasureFacts, RoutingCase
from services.routing.domain.decision import RuleId, RuleTrace
from services.routing.domain.directory import Directory, Jurisdiction
from services.routing.domain.placement import (
    Level,
    Placement,
    Step,
    describe,
    office_doubts,
    place_doubts,
)
from shared.events.vocabulary import OffenceCategory

BASIC_MAX_PENALTY_YEARS = 10  # basic offices: offences punishable by up to 10 years
_ANTI_CORRUPTION_CATEGORIES = frozenset(
    {OffenceCategory.CORRUPTION, OffenceCategory.ECONOMIC_CRIME, OffenceCategory.MONEY_LAUNDERING}
)


def anti_corruption(
    case: RoutingCase, directory: Directory, pending: tuple[MeasureFacts, ...]
) -> Step:
    """Rule 4: corruption and economic crime below the Organized Crime thresholds go to the
    anti-corruption department serving the appellate area of each measure's place."""
    categories = sorted(case.categories & _ANTI_CORRUPTION_CATEGORIES)
    if not categories:
        reason = "no corruption, economic crime or money laundering"
        return Step(RuleTrace(RuleId.ANTI_CORRUPTION, matched=False, reason=reason))
    why = f"{', '.join(categories)} below the Organized Crime thresholds"
    placements: list[Placement] = []
    notes: list[str] = []
    declined: list[str] = []
    for measure in pending:
        outcome = _department(measure, directory, case, why)
        if isinstance(outcome, Placement):
            placements.append(outcome)
            notes.append(f"measure {measure.index} to {outcome.office.id}")
        else:
            notes.append(f"{describe(measure)}: {outcome.reason}, left to the territorial rule")
            declined += [outcome.declined] if outcome.declined else []
    reason = f"{why}: {'; '.join(notes)}"
    trace = RuleTrace(RuleId.ANTI_CORRUPTION, matched=bool(placements), reason=reason)
    return Step(trace, placements=tuple(placements), declined=tuple(declined))


@dataclass(frozen=True)
class _Skipped:
    """Why a measure is left to the next rule, and the office that declined it, if one did."""

    reason: str
    declined: str | None = None


def _department(
    measure: MeasureFacts, directory: Directory, case: RoutingCase, why: str
) -> Placement | _Skipped:
    place = directory.jurisdiction(measure.place)
    if place is None:
        return _Skipped(f"place not in directory version {directory.version}")
    department = directory.anti_corruption_department_for(place.appellate_area)
    if department is None:
        # Before 2018 the ordinary offices held this competence; they still do where no
        # department serves the area.
        return _Skipped(f"no anti-corruption department serves the {place.appellate_area} area")
    if department.id in case.excluded_office_ids:
        return _Skipped(f"{department.id} declined this request", department.id)
    basis = (
        f"{describe(measure)}: {why}: {department.name_en}, which serves the "
        f"{place.appellate_area} appellate area"
    )
    doubts = (*place_doubts(place, "appellate"), *office_doubts(department))
    return Placement(measure, department, RuleId.ANTI_CORRUPTION, basis, doubts)


@dataclass(frozen=True)
class _Penalty:
    """Which level of office the offences' maximum penalty points to."""

    first: Level  # the level tried first; the other is the fallback (none above 10 years)
    text: str
    fallback: bool = True
    doubt: str | None = None


def _penalty(case: RoutingCase) -> _Penalty:
    known = [p for o in case.offences if (p := o.max_penalty_years) is not None]
    limit = BASIC_MAX_PENALTY_YEARS
    if known and max(known) > limit:
        return _Penalty("higher", f"maximum penalty {max(known)} years exceeds {limit}", False)
    if known and len(known) == len(case.offences):
        return _Penalty("basic", f"maximum penalty {max(known)} years does not exceed {limit}")
    # Unknown penalty: the higher office can execute the request itself or hand it down to a
    # basic office it supervises, while a basic office could not take a graver offence.
    text = "maximum penalty not stated for every offence"
    return _Penalty("higher", text, doubt=f"{text}: confirm the office level")


def territorial(case: RoutingCase, directory: Directory, pending: tuple[MeasureFacts, ...]) -> Step:
    """Rule 5: the higher office of the place when the maximum penalty exceeds 10 years,
    otherwise the basic office; a measure no office can take is reported, not dropped."""
    penalty = _penalty(case)
    placements: list[Placement] = []
    unplaced: list[tuple[int, str]] = []
    notes: list[str] = []
    for measure in pending:
        place = directory.jurisdiction(measure.place)
        outcome = (
            f"{describe(measure)}: place not in directory version {directory.version}"
            if place is None
            else _territorial_office(measure, place, penalty, directory, case)
        )
        if isinstance(outcome, Placement):
            placements.append(outcome)
            notes.append(f"measure {measure.index} to {outcome.office.id}")
        else:
            unplaced.append((measure.index, outcome))
            notes.append(outcome)
    reason = f"{penalty.text}: {'; '.join(notes)}"
    trace = RuleTrace(RuleId.TERRITORIAL, matched=bool(placements), reason=reason)
    return Step(trace, placements=tuple(placements), unplaced=tuple(unplaced))


def _territorial_office(
    measure: MeasureFacts,
    place: Jurisdiction,
    penalty: _Penalty,
    directory: Directory,
    case: RoutingCase,
) -> Placement | str:
    levels: tuple[Level, ...] = (penalty.first,)
    if penalty.fallback:
        levels += ("basic",) if penalty.first == "higher" else ("higher",)
    skipped: list[str] = []
    for level in levels:
        office_id = place.higher_office_id if level == "higher" else place.basic_office_id
        if office_id is None:
            skipped.append(f"no {level} office is known for {place.municipality}")
        elif office_id in case.excluded_office_ids:
            skipped.append(f"{office_id} declined this request")
        else:
            return _placement(measure, place, penalty, directory, level, office_id, skipped)
    why = "; ".join([penalty.text, *skipped])
    return f"{describe(measure)}: {why}: no other territorial office can take it"


def _placement(
    measure: MeasureFacts,
    place: Jurisdiction,
    penalty: _Penalty,
    directory: Directory,
    level: Level,
    office_id: str,
    skipped: list[str],
) -> Placement:
    office = directory.office(office_id)
    how = f"falls back to the {level} office" if skipped else f"{level} office"
    why = "; ".join([penalty.text, *skipped])
    basis = f"{describe(measure)}: {why}: {how} of the territory of {place.municipality}"
    # A fallback office is competent by elimination: it should confirm or hand the measure on.
    fallback = [f"fallback to {office.id}"] if skipped else []
    doubts = [*fallback, *([penalty.doubt] if penalty.doubt else [])]
    doubts += [*place_doubts(place, level), *office_doubts(office)]
    rule = RuleId.TERRITORIAL_HIGHER if level == "higher" else RuleId.TERRITORIAL_BASIC
    return Placement(measure, office, rule, basis, tuple(doubts))
