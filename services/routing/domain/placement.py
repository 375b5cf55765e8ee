"""What the rules have in common: a measure placed with an office, and what one rule did."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from services.routing.domain.case import MeasureFacts, RoutingCase
from services.routing.domain.decision import RuleTrace
from services.routing.domain.directory import Directory, Jurisdiction, Office, Status

Level = Literal["basic", "higher", "appellate"]


@dataclass(frozen=True)
class Placement:
    """One measure given to one office by one rule; doubts say what an operator should confirm."""

    measure: MeasureFacts
    office: Office
    rule: str
    basis: str
    doubts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Step:
    """What one rule did with the measures still waiting for an office."""

    trace: RuleTrace
    placements: tuple[Placement, ...] = ()
    unplaced: tuple[tuple[int, str], ...] = ()  # (measure index, why no office can take it)
    declined: tuple[str, ...] = ()  # offices this rule would have chosen but that declined
    failure: str | None = None  # stops routing: a refused check or a defect in the directory


Rule = Callable[[RoutingCase, Directory, tuple[MeasureFacts, ...]], Step]


def describe(measure: MeasureFacts) -> str:
    """A measure as the trace and the bases name it (no personal data: type and place only)."""
    return f"measure {measure.index} ({measure.type} in {measure.place})"


def numbered(indexes: list[int] | tuple[int, ...]) -> str:
    """Measure indexes as text: "measure 2", "measures 1, 3"."""
    listed = ", ".join(str(index) for index in indexes)
    return f"measure {listed}" if len(indexes) == 1 else f"measures {listed}"


def office_doubts(office: Office) -> list[str]:
    """Why a decision resting on this office needs confirming, if it does."""
    if office.status == Status.CONFIRMED:
        return []
    return [f"{office.id} is marked inferred in the directory ({office.note or 'no note'})"]


def place_doubts(place: Jurisdiction, level: Level) -> list[str]:
    """Why a decision resting on the place's link to an office (or area) needs confirming."""
    doubts = []
    links: dict[Level, tuple[Status, str | None]] = {
        "basic": (place.basic_status, place.basic_note),
        # The appellate area is reached through the higher office, so both links count.
        "higher": (place.higher_status, place.higher_note),
        "appellate": (place.appellate_status, place.appellate_note),
    }
    levels: tuple[Level, ...] = ("higher", "appellate") if level == "appellate" else (level,)
    for each in levels:
        status, note = links[each]
        if status != Status.CONFIRMED:
            doubts.append(f"{place.municipality}'s {each} link is inferred ({note or 'no note'})")
    if place.conflict:
        doubts.append(f"sources conflict on {place.municipality}: {place.conflict}")
    return doubts
