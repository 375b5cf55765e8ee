"""Why a request went where it did: the rule trace and the basis of each assignment.

The trace lists every rule tried, in order, up to the one that decided (and says why a declined
office or an unplaceable measure was passed over); the basis of an assignment explains the
choice in words an operator can check.
"""

import pytest

from services.routing.domain.directory import Directory
from services.routing.domain.rules import RoutingCase, RuleId, route
from tests.unit.routing.routing_cases import (
    BASIC_DECLINED,
    DRUGS_8,
    DRUGS_12,
    KRAGUJEVAC_CORRUPTION,
    MEROSINA_HEARING,
    PARTLY_PLACEABLE,
    PENALTY_NOT_STATED,
    SUBOTICA_SEARCH,
    WAR_CRIMES_DECLINED,
    Cat,
    Type,
    measure,
    offence,
    request,
)

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
