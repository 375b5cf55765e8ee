"""Deadline policies written by operators: the most specific matching rule governs, rules
that could both match are refused, bad policy data is refused naming the rule and the field,
and a packaged default can be changed without touching code."""

import json
from datetime import date
from importlib import resources
from typing import Any

import pytest

from services.tracking.domain.deadlines import PolicyError, load_policies
from tests.unit.tracking.deadline_samples import (
    URGENT,
    deadlines,
    end_of,
    measure,
    request,
    rule,
)

# One rule per level of precedence, from the least specific to the most.
PRECEDENCE_RULES = [
    rule("any", duration=60),
    rule("direct", duration=50, match={"channel": ["direct"]}),
    rule("protocol", duration=40, match={"legal_basis": ["convention_1959_protocol_2"]}),
    rule("urgent", duration=30, match={"urgency": ["urgent"]}),
    rule("search", duration=20, match={"measures": ["search_and_seizure"]}),
    rule(
        "urgent_search",
        duration=10,
        match={"urgency": ["urgent"], "measures": ["search_and_seizure"]},
    ),
]
PRECEDENCE = load_policies({"rules": PRECEDENCE_RULES})


@pytest.mark.parametrize(
    ("facts", "measure_type", "governing"),
    [
        (URGENT, "search_and_seizure", "urgent_search"),
        ({}, "search_and_seizure", "search"),
        (URGENT, "hearing_witness", "urgent"),
        ({}, "hearing_witness", "protocol"),
        ({"legal_basis": "convention_1959"}, "hearing_witness", "direct"),
        ({"legal_basis": "untoc", "channel": "eurojust"}, "hearing_witness", "any"),
    ],
)
def test_the_most_specific_matching_rule_governs(
    facts: dict[str, str], measure_type: str, governing: str
) -> None:
    details = request(measures=[measure(measure_type)], **facts)

    answer = deadlines(details, PRECEDENCE)["req-1:answer:0"]

    assert answer.rule_id == governing


def test_a_measure_rule_beats_an_urgency_rule() -> None:
    without_combined = [r for r in PRECEDENCE_RULES if r["id"] != "urgent_search"]
    urgent_search = request(measures=[measure("search_and_seizure")], **URGENT)

    answer = deadlines(urgent_search, load_policies({"rules": without_combined}))["req-1:answer:0"]

    assert answer.rule_id == "search"
    assert answer.due == end_of(date(2026, 3, 22))


def test_two_equally_specific_rules_that_could_both_match_are_refused() -> None:
    with pytest.raises(PolicyError) as refused:
        load_policies(
            {
                "rules": [
                    rule("a", match={"measures": ["subscriber_data", "traffic_data"]}),
                    rule("b", match={"measures": ["traffic_data"]}),
                ]
            }
        )

    assert (refused.value.rule_id, refused.value.field) == ("b", "match")
    assert "'a'" in str(refused.value)


def test_equally_specific_rules_for_different_measures_live_side_by_side() -> None:
    policies = load_policies(
        {
            "rules": [
                rule("a", match={"measures": ["subscriber_data"]}),
                rule("b", match={"measures": ["traffic_data"]}),
            ]
        }
    )

    assert [r.id for r in policies.rules] == ["a", "b"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"unit": "days"}, "unit"),
        ({"duration": 0}, "duration"),
        ({"duration": "90"}, "duration"),
        ({"duraton": 90}, "duraton"),
        ({"confirmed": "yes"}, "confirmed"),
        ({"start": "acknowledged"}, "start"),
        ({"satisfied_by": ["routed", "answered"]}, "satisfied_by"),
        ({"match": {"measure": ["subscriber_data"]}}, "match.measure"),
        ({"match": {"measures": ["wiretap"]}}, "match.measures"),
        ({"match": {"urgency": "urgent"}}, "match.urgency"),
        ({"due_soon": {"weeks": 1}}, "due_soon"),
        ({"due_soon": {"days": -2}}, "due_soon.days"),
        ({"basis": "  "}, "basis"),
    ],
)
def test_bad_policy_data_is_refused_naming_the_rule_and_the_field(
    change: dict[str, Any], field: str
) -> None:
    with pytest.raises(PolicyError) as refused:
        load_policies({"rules": [rule("execute.custom", **change)]})

    assert (refused.value.rule_id, refused.value.field) == ("execute.custom", field)
    assert "'execute.custom'" in str(refused.value)
    assert f"'{field}'" in str(refused.value)


def test_a_rule_without_its_basis_is_refused() -> None:
    data = rule("execute.custom")
    del data["basis"]

    with pytest.raises(PolicyError) as refused:
        load_policies({"rules": [data]})

    assert str(refused.value) == "deadline rule 'execute.custom', field 'basis': is missing"


def test_the_policy_set_itself_is_checked() -> None:
    with pytest.raises(PolicyError, match="field 'rules'"):
        load_policies({"rules": []})
    with pytest.raises(PolicyError, match="field 'time_zone'"):
        load_policies({"rules": [rule("a")], "time_zone": "Europe/Nowhere"})
    with pytest.raises(PolicyError, match="field 'id'"):
        load_policies({"rules": [rule("a"), rule("a", match={"urgency": ["urgent"]})]})


def test_operators_can_change_a_default_without_touching_code() -> None:
    packaged = resources.files("services.tracking.policies").joinpath("deadlines.json")
    data = json.loads(packaged.read_text("utf-8"))
    for entry in data["rules"]:
        if entry["id"] == "acknowledge.default":
            entry["duration"] = 3

    acknowledge = deadlines(request(), load_policies(data))["req-1:acknowledge"]

    assert acknowledge.due == end_of(date(2026, 3, 5))
