"""Who executes an incoming request: the routing rules of DOMAIN.md, case by case.

Each row is a realistic request and the office(s) a prosecutor would expect to receive it.
An expected assignment is (office id, measure indexes, rule, inferred).
"""

import json
from pathlib import Path
from typing import Any

import pytest

from services.routing.domain.codec import directory_from_dict, directory_to_dict
from services.routing.domain.directory import Directory
from services.routing.domain.rules import (
    MeasureFacts,
    OffenceFacts,
    RoutingCase,
    RoutingDecision,
    RuleId,
    route,
)
from services.routing.domain.seed import seed_directory
from shared.events.vocabulary import Channel, Direction, MeasureType, OffenceCategory

OFFICES_JSON = Path(__file__).resolve().parents[3] / "shared" / "reference" / "offices.json"

Cat = OffenceCategory
Type = MeasureType
Expected = tuple[tuple[str, tuple[int, ...], str, bool], ...]
ALL_RULES = [
    "direction_check",
    "measures_check",
    "channel_check",
    "war_crimes",
    "organized_crime",
    "high_tech_crime",
    "anti_corruption",
    "territorial",
]


@pytest.fixture(scope="module")
def directory() -> Directory:
    return seed_directory(json.loads(OFFICES_JSON.read_text(encoding="utf-8")))


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

ROUTED = [
    pytest.param(
        request(
            Cat.CYBERCRIME,
            [offence(Cat.CYBERCRIME, 8)],
            measure(1, Type.PRESERVATION_OF_DATA, "Novi Beograd"),
            channel=Channel.CYBERCRIME_24_7,
        ),
        (("vtk-beograd", (1,), "high_tech_crime", False),),
        id="slovenia-cybercrime-preservation-to-high-tech",
    ),
    pytest.param(
        request(
            Cat.CYBERCRIME,
            [offence(Cat.CYBERCRIME, 8)],
            measure(1, Type.SEARCH_AND_SEIZURE, "Novi Sad"),
            measure(2, Type.HEARING_WITNESS, "Niš"),
        ),
        (("vtk-beograd", (1, 2), "high_tech_crime", False),),
        id="cybercrime-case-goes-whole-to-high-tech",
    ),
    pytest.param(
        request(
            Cat.TRAFFICKING_DRUGS,
            [DRUGS_8],
            SUBOTICA_SEARCH,
            measure(2, Type.SUBSCRIBER_DATA, "Subotica"),
        ),
        (
            ("ojt-subotica", (1,), "territorial_basic", True),
            ("vtk-beograd", (2,), "high_tech_crime", False),
        ),
        id="budapest-measure-of-a-drug-case-to-high-tech-the-search-stays-territorial",
    ),
    pytest.param(
        KRAGUJEVAC_CORRUPTION,
        (("acd-kraljevo", (1,), "anti_corruption", False),),
        id="corruption-150-million-in-kragujevac-to-kraljevo-department",
    ),
    pytest.param(
        request(
            Cat.ECONOMIC_CRIME,
            [offence(Cat.ECONOMIC_CRIME, 5)],
            measure(1, Type.PRODUCTION_OF_DOCUMENTS, "Novi Sad"),
            measure(2, Type.TRAFFIC_DATA, "Novi Sad"),
        ),
        (
            ("acd-novi-sad", (1,), "anti_corruption", False),
            ("vtk-beograd", (2,), "high_tech_crime", False),
        ),
        id="economic-crime-with-a-budapest-measure",
    ),
    pytest.param(
        request(
            Cat.MONEY_LAUNDERING,
            [offence(Cat.MONEY_LAUNDERING, 10)],
            measure(1, Type.FREEZING_OF_ASSETS, "Niš"),
        ),
        (("acd-nis", (1,), "anti_corruption", True),),
        id="money-laundering-not-linked-nis-area-is-inferred",
    ),
    pytest.param(
        request(
            Cat.WAR_CRIMES,
            [offence(Cat.WAR_CRIMES, 20, criminal_code_article=372)],
            measure(1, Type.HEARING_WITNESS, "Novi Sad"),
        ),
        (("tuzilastvo-za-ratne-zlocine", (1,), "war_crimes", False),),
        id="war-crimes-witness-hearing-in-novi-sad",
    ),
    pytest.param(
        request(
            Cat.OTHER,
            [offence(Cat.OTHER, 15, criminal_code_article=386)],
            measure(1, Type.HEARING_VICTIM, "Vranje"),
            measure(2, Type.SEARCH_AND_SEIZURE, "Priština"),
        ),
        (("tuzilastvo-za-ratne-zlocine", (1, 2), "war_crimes", False),),
        id="war-crimes-by-article-nationwide-even-outside-the-directory",
    ),
    pytest.param(
        request(Cat.TRAFFICKING_DRUGS, [DRUGS_12], SUBOTICA_SEARCH),
        (("vjt-subotica", (1,), "territorial_higher", False),),
        id="drugs-12-years-subotica-to-higher-office",
    ),
    pytest.param(
        request(Cat.TRAFFICKING_DRUGS, [DRUGS_8], SUBOTICA_SEARCH),
        (("ojt-subotica", (1,), "territorial_basic", True),),
        id="drugs-8-years-subotica-to-basic-office-own-office-unconfirmed",
    ),
    pytest.param(
        request(
            Cat.OTHER,
            [offence(Cat.OTHER, 5)],
            measure(1, Type.SEARCH_AND_SEIZURE, "Novi Sad"),
            measure(2, Type.HEARING_WITNESS, "Niš"),
            measure(3, Type.SERVICE_OF_DOCUMENTS, "Beočin"),
        ),
        (
            ("ojt-novi-sad", (1, 3), "territorial_basic", False),
            ("ojt-nis", (2,), "territorial_basic", False),
        ),
        id="two-cities-two-assignments-grouped-per-office",
    ),
    pytest.param(
        request(
            Cat.DOMESTIC_VIOLENCE,
            [offence(Cat.DOMESTIC_VIOLENCE, 5), offence(Cat.OTHER, 12)],
            measure(1, Type.HEARING_VICTIM, "Kanjiža"),
        ),
        (("vjt-subotica", (1,), "territorial_higher", False),),
        id="gravest-offence-decides-the-level",
    ),
    pytest.param(
        request(Cat.OTHER, [offence(Cat.OTHER, 10)], measure(1, Type.HEARING_WITNESS, "Senta")),
        (("ojt-senta", (1,), "territorial_basic", False),),
        id="exactly-10-years-is-basic",
    ),
    pytest.param(
        request(
            Cat.OTHER, [offence(Cat.OTHER, 5)], measure(1, Type.HEARING_WITNESS, "Novi Beograd")
        ),
        (("ojt-beograd-trece", (1,), "territorial_basic", True),),
        id="novi-beograd-pending-amendment-is-inferred",
    ),
    pytest.param(
        PENALTY_NOT_STATED,
        (("vjt-kragujevac", (1,), "territorial_higher", True),),
        id="penalty-not-stated-higher-office-to-confirm",
    ),
    pytest.param(
        request(Cat.OTHER, [offence(Cat.OTHER, 3)], measure(1, Type.HEARING_WITNESS, "Barajevo")),
        (("vjt-beograd", (1,), "territorial_higher", True),),
        id="barajevo-basic-office-unknown-higher-office-to-confirm",
    ),
    pytest.param(
        MEROSINA_HEARING,
        (("ojt-prokuplje", (1,), "territorial_basic", True),),
        id="merosina-conflict-is-inferred",
    ),
    pytest.param(
        request(
            Cat.OTHER, [offence(Cat.OTHER, 3)], measure(1, Type.HEARING_WITNESS, "Crveni Krst")
        ),
        (("ojt-nis", (1,), "territorial_basic", False),),
        id="city-district-alias",
    ),
    pytest.param(
        request(
            Cat.OTHER,
            [offence(Cat.OTHER, 12)],
            measure(1, Type.TEMPORARY_TRANSFER_OF_DETAINED_PERSON, "Niš"),
            channel=Channel.MINISTRY_OF_JUSTICE,
        ),
        (("vjt-nis", (1,), "territorial_higher", False),),
        id="temporary-transfer-via-ministry-is-admissible",
    ),
]

ORGANIZED_CRIME = "tuzilastvo-za-organizovani-kriminal"
OC_ROUTED = [
    pytest.param(
        offence(Cat.ECONOMIC_CRIME, 10, estimated_gain_rsd=250_000_000),
        ORGANIZED_CRIME,
        id="gain-250-million-to-organized-crime",
    ),
    pytest.param(
        offence(Cat.ECONOMIC_CRIME, 10, estimated_gain_rsd=200_000_000),
        "acd-beograd",
        id="gain-exactly-200-million-stays-below",
    ),
    pytest.param(
        offence(Cat.CORRUPTION, 8, estimated_gain_rsd=150_000_000),
        "acd-beograd",
        id="corruption-150-million-to-anti-corruption",
    ),
    pytest.param(
        offence(Cat.CORRUPTION, 8, public_procurement_value_rsd=900_000_000),
        ORGANIZED_CRIME,
        id="procurement-900-million-to-organized-crime",
    ),
    pytest.param(
        offence(Cat.CORRUPTION, 8, committed_by_senior_official=True),
        ORGANIZED_CRIME,
        id="senior-official-to-organized-crime",
    ),
    pytest.param(
        offence(Cat.MONEY_LAUNDERING, 10, linked_to_organized_crime=True),
        ORGANIZED_CRIME,
        id="money-laundering-linked-to-organized-crime",
    ),
    pytest.param(
        offence(Cat.MONEY_LAUNDERING, 10, estimated_gain_rsd=300_000_000),
        ORGANIZED_CRIME,
        id="money-laundering-above-the-gain-threshold",
    ),
    pytest.param(offence(Cat.TERRORISM, 15), ORGANIZED_CRIME, id="terrorism"),
    pytest.param(offence(Cat.ORGANIZED_CRIME, 12), ORGANIZED_CRIME, id="organized-crime"),
    pytest.param(
        offence(Cat.TRAFFICKING_HUMAN_BEINGS, 12, estimated_gain_rsd=300_000_000),
        "vjt-beograd",
        id="gain-of-a-non-economic-offence-is-no-threshold",
    ),
]

EXCLUDED = [
    pytest.param(
        BASIC_DECLINED,
        (("vjt-subotica", (1,), "territorial_higher", True),),
        id="basic-office-declined-higher-office-of-the-territory",
    ),
    pytest.param(
        WAR_CRIMES_DECLINED,
        (("vjt-novi-sad", (1,), "territorial_higher", True),),
        id="war-crimes-office-declined-falls-through-to-territorial",
    ),
    pytest.param(
        request(
            Cat.CORRUPTION,
            [offence(Cat.CORRUPTION, 8, estimated_gain_rsd=250_000_000)],
            measure(1, Type.BANKING_INFORMATION, "Kragujevac"),
            excluded=(ORGANIZED_CRIME,),
        ),
        (("acd-kraljevo", (1,), "anti_corruption", True),),
        id="organized-crime-declined-anti-corruption-department",
    ),
    pytest.param(
        request(
            Cat.TRAFFICKING_DRUGS,
            [DRUGS_8],
            SUBOTICA_SEARCH,
            measure(2, Type.TRAFFIC_DATA, "Subotica"),
            excluded=("vtk-beograd",),
        ),
        (("ojt-subotica", (1, 2), "territorial_basic", True),),
        id="high-tech-declined-budapest-measure-territorial",
    ),
    pytest.param(
        request(
            Cat.CORRUPTION,
            [offence(Cat.CORRUPTION, 8)],
            measure(1, Type.BANKING_INFORMATION, "Kragujevac"),
            excluded=("acd-kraljevo",),
        ),
        (("ojt-kragujevac", (1,), "territorial_basic", True),),
        id="anti-corruption-department-declined-basic-office",
    ),
    pytest.param(
        request(
            Cat.OTHER,
            [offence(Cat.OTHER)],
            measure(1, Type.HEARING_WITNESS, "Senta"),
            excluded=("vjt-subotica",),
        ),
        (("ojt-senta", (1,), "territorial_basic", True),),
        id="penalty-unknown-higher-declined-basic-office",
    ),
    pytest.param(
        request(
            Cat.OTHER,
            [offence(Cat.OTHER, 5)],
            measure(1, Type.HEARING_WITNESS, "Senta"),
            excluded=("ojt-nis",),
        ),
        (("ojt-senta", (1,), "territorial_basic", False),),
        id="an-unrelated-decline-changes-nothing",
    ),
]

FAILED = [
    pytest.param(
        request(Cat.OTHER, [offence(Cat.OTHER, 5)], measure(1, Type.HEARING_WITNESS, "Priština")),
        "measure 1 (hearing_witness in Priština): place not in directory version 1",
        id="place-unknown-to-the-directory",
    ),
    pytest.param(
        PARTLY_PLACEABLE,
        "1 of 2 measure(s) cannot be placed",
        id="partly-placeable-is-not-routed",
    ),
    pytest.param(
        request(
            Cat.OTHER,
            [offence(Cat.OTHER, 12)],
            measure(1, Type.TEMPORARY_TRANSFER_OF_DETAINED_PERSON, "Niš"),
            channel=Channel.DIRECT,
        ),
        "goes ministry to ministry, but this request came via direct",
        id="temporary-transfer-via-direct-channel",
    ),
    pytest.param(
        request(Cat.TRAFFICKING_DRUGS, [DRUGS_12], SUBOTICA_SEARCH, direction=Direction.OUTGOING),
        "outgoing request",
        id="outgoing-request",
    ),
    pytest.param(request(Cat.OTHER, [offence(Cat.OTHER, 5)]), "no measure", id="no-measures"),
    pytest.param(
        request(Cat.OTHER, [offence(Cat.OTHER, 5)], SUBOTICA_SEARCH, SUBOTICA_SEARCH),
        "measure indexes repeat",
        id="repeated-measure-index",
    ),
    pytest.param(
        request(Cat.TRAFFICKING_DRUGS, [DRUGS_12], SUBOTICA_SEARCH, excluded=("vjt-subotica",)),
        "vjt-subotica declined this request: no other territorial office can take it",
        id="higher-office-declined-a-grave-offence",
    ),
]


@pytest.mark.parametrize(("case", "expected"), ROUTED)
def test_request_is_routed_to_the_expected_offices(
    directory: Directory, case: RoutingCase, expected: Expected
) -> None:
    decision = route(case, directory)
    assert decision.routed and decision.failure is None
    assert placed(decision) == expected
    assert decision.directory_version == 1


@pytest.mark.parametrize(("facts", "office_id"), OC_ROUTED)
def test_organized_crime_thresholds(
    directory: Directory, facts: OffenceFacts, office_id: str
) -> None:
    case = request(facts.category, [facts], measure(1, Type.SEARCH_AND_SEIZURE, "Zemun"))
    assert [a.office_id for a in route(case, directory).assignments] == [office_id]


@pytest.mark.parametrize(("case", "expected"), EXCLUDED)
def test_an_office_that_declined_is_never_chosen_again(
    directory: Directory, case: RoutingCase, expected: Expected
) -> None:
    decision = route(case, directory)
    assert placed(decision) == expected
    assert not {a.office_id for a in decision.assignments} & case.excluded_office_ids


@pytest.mark.parametrize(("case", "failure"), FAILED)
def test_a_request_no_rule_can_place_fails_with_its_reason(
    directory: Directory, case: RoutingCase, failure: str
) -> None:
    decision = route(case, directory)
    assert not decision.routed
    assert decision.assignments == ()
    assert decision.failure is not None and failure in decision.failure


@pytest.mark.parametrize(
    ("case", "rules", "deciding"),
    [
        pytest.param(
            request(Cat.TRAFFICKING_DRUGS, [DRUGS_12], SUBOTICA_SEARCH),
            ALL_RULES,
            "territorial",
            id="territorial-tries-every-rule",
        ),
        pytest.param(
            request(
                Cat.WAR_CRIMES,
                [offence(Cat.WAR_CRIMES, 20)],
                measure(1, Type.HEARING_WITNESS, "Ada"),
            ),
            ALL_RULES[:4],
            "war_crimes",
            id="first-match-wins",
        ),
        pytest.param(
            request(
                Cat.OTHER,
                [offence(Cat.OTHER, 12)],
                measure(1, Type.TEMPORARY_TRANSFER_OF_DETAINED_PERSON, "Niš"),
            ),
            ALL_RULES[:3],
            "channel_check",
            id="a-refusing-check-stops-the-trace",
        ),
        pytest.param(
            request(
                Cat.CORRUPTION,
                [offence(Cat.CORRUPTION, 8)],
                measure(1, Type.TRAFFIC_DATA, "Bor"),
                measure(2, Type.BANKING_INFORMATION, "Bor"),
            ),
            ALL_RULES[:7],
            "anti_corruption",
            id="measures-split-between-rules",
        ),
    ],
)
def test_the_trace_lists_every_rule_tried_in_order(
    directory: Directory, case: RoutingCase, rules: list[str], deciding: str
) -> None:
    trace = route(case, directory).trace
    assert [t.rule for t in trace] == rules
    assert trace[-1].rule == deciding and trace[-1].matched
    assert all(t.reason for t in trace)


def test_the_trace_says_why_a_declined_office_was_passed_over(directory: Directory) -> None:
    case = WAR_CRIMES_DECLINED
    war_crimes = route(case, directory).trace[3]
    assert war_crimes.rule == RuleId.WAR_CRIMES and not war_crimes.matched
    assert "tuzilastvo-za-ratne-zlocine declined" in war_crimes.reason


def test_the_trace_names_the_measure_that_could_not_be_placed(directory: Directory) -> None:
    decision = route(PARTLY_PLACEABLE, directory)
    territorial = decision.trace[-1]
    assert "measure 1 to vjt-subotica" in territorial.reason
    assert "measure 2 (hearing_witness in Atlantida)" in territorial.reason


@pytest.mark.parametrize(
    ("case", "phrases"),
    [
        pytest.param(
            request(Cat.TRAFFICKING_DRUGS, [DRUGS_12], SUBOTICA_SEARCH),
            ["maximum penalty 12 years exceeds 10", "higher office of the territory of Subotica"],
            id="higher",
        ),
        pytest.param(
            request(Cat.TRAFFICKING_DRUGS, [DRUGS_8], SUBOTICA_SEARCH),
            ["does not exceed 10", "ojt-subotica is marked inferred"],
            id="inferred-office",
        ),
        pytest.param(
            KRAGUJEVAC_CORRUPTION,
            ["corruption below the Organized Crime thresholds", "Kragujevac appellate area"],
            id="anti-corruption",
        ),
        pytest.param(MEROSINA_HEARING, ["sources conflict on Merošina"], id="conflicting-sources"),
        pytest.param(PENALTY_NOT_STATED, ["maximum penalty not stated"], id="penalty-not-stated"),
        pytest.param(
            BASIC_DECLINED,
            ["ojt-subotica declined this request", "falls back to the higher office"],
            id="fallback",
        ),
    ],
)
def test_the_basis_explains_the_choice(
    directory: Directory, case: RoutingCase, phrases: list[str]
) -> None:
    (assignment,) = route(case, directory).assignments
    for phrase in phrases:
        assert phrase in assignment.basis


def test_special_offices_are_found_by_role_not_by_id(directory: Directory) -> None:
    data = directory_to_dict(directory)
    for office in data["offices"]:
        if office["id"] == "tuzilastvo-za-ratne-zlocine":
            office["id"] = "trz"
    renamed = directory_from_dict({**data, "version": 2})
    decision = route(request(Cat.WAR_CRIMES, [], measure(1, Type.HEARING_WITNESS, "Ada")), renamed)
    assert placed(decision) == (("trz", (1,), "war_crimes", False),)
    assert decision.directory_version == 2


def test_a_directory_without_the_special_office_fails_rather_than_guess(
    directory: Directory,
) -> None:
    data = directory_to_dict(directory)
    data["offices"] = [o for o in data["offices"] if "war_crimes" not in o["roles"]]
    decision = route(
        request(Cat.WAR_CRIMES, [offence(Cat.WAR_CRIMES, 20)], SUBOTICA_SEARCH),
        directory_from_dict(data),
    )
    assert decision.failure is not None and "no war_crimes office" in decision.failure


def test_a_decision_has_assignments_or_a_failure_never_both() -> None:
    with pytest.raises(ValueError, match="not both"):
        RoutingDecision(assignments=(), trace=(), directory_version=1)
