"""The deadlines an operator sees on a request: which ones run, when each is due and on what
basis (calendar days, hours across the change to summer time, business days around public
holidays), and how a date asked for by the requester changes them."""

from datetime import UTC, date, datetime, timedelta

from services.tracking.domain.deadlines import default_policies, load_policies
from tests.unit.tracking.deadline_samples import (
    BELGRADE,
    RECEIVED,
    ROUTED,
    URGENT,
    deadlines,
    end_of,
    measure,
    request,
    rule,
)

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


# --- business days and holidays ------------------------------------------------------------


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
