"""The deadlines an operator sees on a request: which ones run, when each is due and on what
basis, how a date asked for by the requester changes them, and when the monitor must warn."""

import json
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.tracking.domain.calendar import BusinessCalendar
from services.tracking.domain.deadlines import (
    Deadline,
    DeadlineState,
    PolicyError,
    PolicySet,
    deadlines_for,
    default_policies,
    load_policies,
    state_of,
    thresholds_crossed,
)
from shared.request.model import EXAMPLE_REQUEST, RequestDetails

BELGRADE = ZoneInfo("Europe/Belgrade")
SERBIA = BusinessCalendar()
RECEIVED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, 10:00 in Belgrade
ROUTED = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)


def measure(kind: str) -> dict[str, str]:
    return {"type": kind, "place": "Beograd"}


def request(**changes: Any) -> RequestDetails:
    plain = {"urgency": "normal", "urgency_reasons": None, "requested_date": None}
    measures = {"measures": [measure("search_and_seizure")]}
    return RequestDetails.model_validate({**EXAMPLE_REQUEST, **plain, **measures, **changes})


URGENT = {"urgency": "urgent", "urgency_reasons": "The data are about to be overwritten."}


def end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=BELGRADE)


def deadlines(
    details: RequestDetails, policies: PolicySet | None = None, **steps: datetime
) -> dict[str, Deadline]:
    found = deadlines_for(
        "req-1",
        details,
        received_at=steps.pop("received_at", RECEIVED),
        policies=policies or default_policies(),
        calendar=SERBIA,
        **steps,
    )
    return {deadline.id: deadline for deadline in found}


# --- the default policies -------------------------------------------------------------------


def test_a_plain_request_must_be_acknowledged_in_7_days_and_decided_in_30() -> None:
    found = deadlines(request())

    assert list(found) == ["req-1:acknowledge", "req-1:decide"]  # not routed: execute not running
    acknowledge, decide = found["req-1:acknowledge"], found["req-1:decide"]
    assert acknowledge.due == end_of(date(2026, 3, 9))
    assert decide.due == end_of(date(2026, 4, 1))
    assert "rule acknowledge.default" in acknowledge.basis
    assert "Directive 2014/41/EU art. 16(1)" in acknowledge.basis
    assert "30 calendar days from receipt on 2026-03-02, due 2026-04-01" in decide.basis
    assert "art. 12(3)" in decide.basis
    assert acknowledge.confirmed and decide.confirmed


def test_once_routed_the_request_must_be_executed_within_90_days_of_that_decision() -> None:
    found = deadlines(request(), routed_at=ROUTED)

    execute = found["req-1:execute"]
    assert execute.due == end_of(date(2026, 6, 3))
    assert "90 calendar days from routing on 2026-03-05" in execute.basis
    assert "art. 12(4)" in execute.basis
    assert found["req-1:acknowledge"].satisfied_at == ROUTED
    assert found["req-1:decide"].satisfied
    assert not execute.satisfied


def test_an_urgent_request_gets_the_shorter_configurable_execution_default() -> None:
    execute = deadlines(request(**URGENT), routed_at=ROUTED)["req-1:execute"]

    assert execute.rule_id == "execute.urgent"
    assert execute.due == end_of(date(2026, 3, 15))
    assert not execute.confirmed
    assert "house default" in execute.basis


def test_an_urgent_preservation_request_gets_24_hours_and_a_60_day_formal_request_reminder() -> (
    None
):
    preservation = request(
        channel="cybercrime_24_7",
        legal_basis="budapest",
        measures=[measure("preservation_of_data")],
        **URGENT,
    )

    found = deadlines(preservation)

    provisional = found["req-1:provisional_measure:0"]
    assert provisional.due == RECEIVED + timedelta(hours=24)
    assert provisional.due.tzinfo == BELGRADE
    assert "art. 32(2)" in provisional.basis
    formal = found["req-1:formal_request_after_preservation:0"]
    assert formal.due == end_of(date(2026, 5, 1))
    assert "Budapest Convention art. 29(7)" in formal.basis


def test_a_deadline_in_hours_is_exact_across_the_change_to_summer_time() -> None:
    preservation = request(measures=[measure("freezing_of_assets")])
    saturday_noon = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)  # clocks go forward that night

    provisional = deadlines(preservation, received_at=saturday_noon)["req-1:provisional_measure:0"]

    assert provisional.due == datetime(2026, 3, 29, 12, 0, tzinfo=UTC)
    assert provisional.due.utcoffset() == timedelta(hours=2)
    assert "24 hours from receipt at 2026-03-28 13:00 CET, due 2026-03-29 14:00 CEST" in (
        provisional.basis
    )


def test_protocol_orders_get_a_deadline_per_measure_labelled_as_not_yet_confirmed() -> None:
    orders = request(
        legal_basis="budapest_protocol_2",
        measures=[measure("subscriber_data"), measure("hearing_witness"), measure("traffic_data")],
    )

    found = deadlines(orders)

    subscriber, traffic = found["req-1:subscriber_data:0"], found["req-1:traffic_data:2"]
    assert subscriber.due == end_of(date(2026, 3, 22))
    assert traffic.due == end_of(date(2026, 4, 16))
    assert (subscriber.measure_index, traffic.measure_index) == (0, 2)
    for order in (subscriber, traffic):
        assert not order.confirmed
        assert "not yet confirmed against the treaty text" in order.basis


def test_the_protocol_figures_do_not_apply_under_another_legal_basis() -> None:
    found = deadlines(request(measures=[measure("subscriber_data")]))

    assert "req-1:subscriber_data:0" not in found


def test_the_default_policies_say_which_figures_are_not_yet_confirmed() -> None:
    policies = default_policies()

    unconfirmed = {rule.id for rule in policies.rules if not rule.confirmed}
    assert unconfirmed == {
        "execute.urgent",
        "subscriber_data.protocol_2",
        "traffic_data.protocol_2",
    }
    assert default_policies() is policies  # read once


# --- a date requested by the requester ------------------------------------------------------


def test_an_earlier_requested_date_governs_execution_and_the_basis_says_so() -> None:
    execute = deadlines(request(requested_date="2026-05-15"), routed_at=ROUTED)["req-1:execute"]

    assert execute.due == end_of(date(2026, 5, 15))
    assert "requested date 2026-05-15 governs" in execute.basis
    assert "due 2026-06-03" in execute.basis  # the rule's own date stays visible


def test_a_later_requested_date_does_not_govern() -> None:
    execute = deadlines(request(requested_date="2026-09-01"), routed_at=ROUTED)["req-1:execute"]

    assert execute.due == end_of(date(2026, 6, 3))
    assert "governs" not in execute.basis
    assert "requested date 2026-09-01 is later" in execute.basis


def test_a_requested_date_shows_before_routing_and_does_not_touch_the_acknowledgement() -> None:
    found = deadlines(request(requested_date="2026-03-06"))

    assert found["req-1:execute"].due == end_of(date(2026, 3, 6))
    assert "not started yet" in found["req-1:execute"].basis
    assert found["req-1:acknowledge"].due == end_of(date(2026, 3, 9))


# --- the states and the alerts --------------------------------------------------------------


def test_a_deadline_goes_from_on_track_to_due_soon_to_overdue_as_time_passes() -> None:
    acknowledge = deadlines(request())["req-1:acknowledge"]  # due 9 March, due soon 2 days before

    assert state_of(acknowledge, datetime(2026, 3, 4, 12, tzinfo=UTC)) is DeadlineState.ON_TRACK
    assert state_of(acknowledge, datetime(2026, 3, 8, 12, tzinfo=UTC)) is DeadlineState.DUE_SOON
    assert state_of(acknowledge, datetime(2026, 3, 9, 22, tzinfo=UTC)) is DeadlineState.DUE_SOON
    assert state_of(acknowledge, datetime(2026, 3, 9, 23, tzinfo=UTC)) is DeadlineState.OVERDUE


def test_a_deadline_is_met_once_the_step_it_guards_has_happened() -> None:
    acknowledge = deadlines(request(), routed_at=ROUTED)["req-1:acknowledge"]

    assert state_of(acknowledge, datetime(2026, 3, 20, tzinfo=UTC)) is DeadlineState.MET
    assert thresholds_crossed(acknowledge, datetime(2026, 3, 20, tzinfo=UTC)) == []


def test_the_monitor_owes_approaching_then_breached() -> None:
    acknowledge = deadlines(request())["req-1:acknowledge"]

    assert thresholds_crossed(acknowledge, datetime(2026, 3, 4, tzinfo=UTC)) == []
    assert thresholds_crossed(acknowledge, datetime(2026, 3, 8, tzinfo=UTC)) == ["approaching"]
    assert thresholds_crossed(acknowledge, datetime(2026, 3, 12, tzinfo=UTC)) == [
        "approaching",
        "breached",
    ]


def test_a_step_that_came_late_leaves_the_breach_on_record() -> None:
    late = datetime(2026, 3, 12, 8, tzinfo=UTC)
    acknowledge = deadlines(request(), routed_at=late)["req-1:acknowledge"]

    assert state_of(acknowledge, datetime(2026, 3, 13, tzinfo=UTC)) is DeadlineState.MET
    assert thresholds_crossed(acknowledge, datetime(2026, 3, 13, tzinfo=UTC)) == [
        "approaching",
        "breached",
    ]


def test_deadline_ids_are_stable_so_each_alert_is_emitted_once() -> None:
    first = deadlines(request(), routed_at=ROUTED)
    again = deadlines(request(), routed_at=ROUTED, executed_at=ROUTED + timedelta(days=30))

    assert list(first) == list(again) == ["req-1:acknowledge", "req-1:decide", "req-1:execute"]


def test_a_moment_without_a_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="received_at must be timezone-aware"):
        deadlines(request(), received_at=datetime(2026, 3, 2, 9, 0))


# --- policies written by operators ----------------------------------------------------------


def rule(rule_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": rule_id,
        "kind": "answer",
        "start": "received",
        "duration": 60,
        "unit": "calendar_days",
        "satisfied_by": ["closed"],
        "basis": f"test rule {rule_id}",
        "confirmed": True,
        "due_soon": {"days": 1},
        **fields,
    }


def test_business_days_skip_orthodox_easter_and_the_basis_names_the_holidays() -> None:
    policies = load_policies(
        {"rules": [rule("decide.fast", kind="decide", duration=5, unit="business_days")]}
    )
    thursday_before_easter = datetime(2026, 4, 9, 8, 0, tzinfo=UTC)

    decide = deadlines(request(), policies, received_at=thursday_before_easter)["req-1:decide"]

    assert decide.due == end_of(date(2026, 4, 20))
    assert (
        "business days, skipping Serbian public holidays: Good Friday 2026-04-10, "
        "Easter Monday 2026-04-13" in decide.basis
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
