"""Builders and shared cases for the routing-rule tests: realistic requests, in DOMAIN.md terms.

An expected assignment is (office id, measure indexes, rule, inferred); `placed` reduces a
decision to that shape. Cases used by more than one rules module live here.
"""

from typing import Any

from services.routing.domain.rules import (
    MeasureFacts,
    OffenceFacts,
    RoutingCase,
    RoutingDecision,
)
from shared.events.vocabulary import Channel, Direction, MeasureType, OffenceCategory

Cat = OffenceCategory
Type = MeasureType
Expected = tuple[tuple[str, tuple[int, ...], str, bool], ...]


def measure(index: int, kind: MeasureType, place: str) -> MeasureFacts:
    return MeasureFacts(index=index, type=kind, place=place)


def offence(category: OffenceCategory, years: int | None = None, **facts: Any) -> OffenceFacts:
    return OffenceFacts(category=category, max_penalty_years=years, **facts)


def request(
    category: OffenceCategory,
    offences: list[OffenceFacts],
    *measures: MeasureFacts,
    channel: Channel = Channel.DIRECT,
    direction: Direction = Direction.INCOMING,
    excluded: tuple[str, ...] = (),
) -> RoutingCase:
    return RoutingCase(
        direction=direction,
        channel=channel,
        offence_category=category,
        offences=tuple(offences),
        measures=measures,
        excluded_office_ids=frozenset(excluded),
    )


def placed(decision: RoutingDecision) -> Expected:
    return tuple(
        (a.office_id, a.measure_indexes, str(a.rule), a.inferred) for a in decision.assignments
    )


SUBOTICA_SEARCH = measure(1, Type.SEARCH_AND_SEIZURE, "Subotica")
DRUGS_12 = offence(Cat.TRAFFICKING_DRUGS, 12)
DRUGS_8 = offence(Cat.TRAFFICKING_DRUGS, 8)
KRAGUJEVAC_CORRUPTION = request(
    Cat.CORRUPTION,
    [offence(Cat.CORRUPTION, 8, estimated_gain_rsd=150_000_000)],
    measure(1, Type.BANKING_INFORMATION, "Kragujevac"),
)
MEROSINA_HEARING = request(
    Cat.OTHER, [offence(Cat.OTHER, 3)], measure(1, Type.HEARING_WITNESS, "Merošina")
)
PENALTY_NOT_STATED = request(
    Cat.OTHER, [offence(Cat.OTHER)], measure(1, Type.HEARING_WITNESS, "Kragujevac")
)
BASIC_DECLINED = request(
    Cat.TRAFFICKING_DRUGS, [DRUGS_8], SUBOTICA_SEARCH, excluded=("ojt-subotica",)
)
WAR_CRIMES_DECLINED = request(
    Cat.WAR_CRIMES,
    [offence(Cat.WAR_CRIMES, 20)],
    measure(1, Type.HEARING_WITNESS, "Novi Sad"),
    excluded=("tuzilastvo-za-ratne-zlocine",),
)
PARTLY_PLACEABLE = request(
    Cat.TRAFFICKING_DRUGS,
    [DRUGS_12],
    SUBOTICA_SEARCH,
    measure(2, Type.HEARING_WITNESS, "Atlantida"),
)

ORGANIZED_CRIME = "tuzilastvo-za-organizovani-kriminal"
