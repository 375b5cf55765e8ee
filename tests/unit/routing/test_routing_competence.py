"""Who executes an incoming request: territorial rules and special jurisdictions, case by case.

Each row is a realistic request and the office(s) a prosecutor would expect to receive it:
high-tech crime, anti-corruption departments, war crimes, organised-crime thresholds, and the
basic/higher territorial offices (with inferred links flagged). Special offices are found by
their role in the directory, never by a hard-coded id.
An expected assignment is (office id, measure indexes, rule, inferred).
"""

import pytest

from services.routing.domain.codec import directory_from_dict, directory_to_dict
from services.routing.domain.directory import Directory
from services.routing.domain.rules import OffenceFacts, RoutingCase, route
from shared.events.vocabulary import Channel
from tests.unit.routing.routing_cases import (
    DRUGS_8,
    DRUGS_12,
    KRAGUJEVAC_CORRUPTION,
    MEROSINA_HEARING,
    ORGANIZED_CRIME,
    PENALTY_NOT_STATED,
    SUBOTICA_SEARCH,
    Cat,
    Expected,
    Type,
    measure,
    offence,
    placed,
    request,
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
