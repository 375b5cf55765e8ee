"""What a clerk experiences when a request is submitted, and what an auditor reads years later."""

import copy
from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from shared.events.vocabulary import Urgency
from shared.request import (
    EXAMPLE_REQUEST,
    RequestDetails,
    RequestSubmission,
    submitted_on,
    to_details,
)

TODAY = date(2026, 3, 2)


def example() -> dict[str, Any]:
    """A fresh copy of the example request, for a test to spoil as its story needs."""
    request: dict[str, Any] = copy.deepcopy(EXAMPLE_REQUEST)
    return request


def submit(request: dict[str, Any], today: date = TODAY) -> RequestSubmission:
    return RequestSubmission.model_validate(request, context={"today": today})


def refusal(request: dict[str, Any], today: date = TODAY) -> dict[tuple[int | str, ...], str]:
    """The errors of a refused submission, as {location: message}."""
    with pytest.raises(ValidationError) as refused:
        submit(request, today)
    return {tuple(error["loc"]): error["msg"] for error in refused.value.errors()}


def test_the_example_request_is_accepted_and_becomes_the_event_payload() -> None:
    submission = submit(example())

    details = to_details(submission)

    assert type(details) is RequestDetails
    assert details == RequestDetails.model_validate(EXAMPLE_REQUEST)
    assert details.requesting_authority.reference == "Kt 1234/2026"
    assert [measure.place for measure in details.measures] == ["Subotica", "Novi Sad"]


def test_the_openapi_schema_shows_the_example_request() -> None:
    assert RequestDetails.model_json_schema()["examples"] == [EXAMPLE_REQUEST]


def test_an_unknown_measure_type_is_refused_with_the_allowed_types() -> None:
    request = example()
    request["measures"][0]["type"] = "teleportation"

    errors = refusal(request)

    assert list(errors) == [("measures", 0, "type")]
    assert "'search_and_seizure'" in errors["measures", 0, "type"]
    assert "'transfer_of_proceedings'" in errors["measures", 0, "type"]


def test_an_unknown_place_is_refused_at_that_measure_with_a_close_match() -> None:
    request = example()
    request["measures"][1]["place"] = "Cacakk"

    errors = refusal(request)

    assert errors == {
        ("measures", 1, "place"): "'Cacakk' is not a known municipality or city of Serbia: "
        "did you mean 'Čačak'?"
    }


def test_a_place_with_nothing_close_is_refused_without_a_suggestion() -> None:
    request = example()
    request["measures"][1]["place"] = "Atlantis"

    errors = refusal(request)

    assert errors == {
        ("measures", 1, "place"): "'Atlantis' is not a known municipality or city of Serbia"
    }


def test_a_bad_type_and_a_bad_place_are_reported_together() -> None:
    request = example()
    request["measures"][0]["type"] = "teleportation"
    request["measures"][1]["place"] = "Atlantis"

    assert set(refusal(request)) == {("measures", 0, "type"), ("measures", 1, "place")}


def test_belgrade_alone_is_refused_with_its_city_municipalities_to_choose_from() -> None:
    request = example()
    request["measures"][1]["place"] = "Belgrade"

    message = refusal(request)["measures", 1, "place"]

    assert "name the one where the measure is carried out" in message
    assert "Novi Beograd" in message
    assert "Zemun" in message


def test_places_are_stored_under_the_name_routing_looks_up() -> None:
    request = example()
    request["measures"][0]["place"] = "subotica"
    request["measures"][1]["place"] = "Crveni Krst"

    submission = submit(request)

    assert [measure.place for measure in submission.measures] == ["Subotica", "Niš"]
    assert [measure.place for measure in to_details(submission).measures] == ["Subotica", "Niš"]


@pytest.mark.parametrize("model", [RequestDetails, RequestSubmission])
def test_an_urgent_request_without_reasons_is_refused_at_urgency_reasons(
    model: type[RequestDetails],
) -> None:
    request = example()
    del request["urgency_reasons"]

    with pytest.raises(ValidationError) as refused:
        model.model_validate(request, context={"today": TODAY})

    [error] = refused.value.errors()
    assert error["loc"] == ("urgency_reasons",)
    assert error["msg"] == "an urgent request must give the reasons for its urgency"


def test_a_normal_request_needs_no_reasons() -> None:
    request = example()
    request["urgency"] = "normal"
    del request["urgency_reasons"]

    assert submit(request).urgency_reasons is None


def test_a_requested_date_already_past_is_refused_at_requested_date() -> None:
    request = example()
    request["requested_date"] = "2026-03-01"

    errors = refusal(request, today=date(2026, 3, 2))

    assert errors == {
        ("requested_date",): "the requested date 2026-03-01 is already past (today is 2026-03-02)"
    }


def test_a_request_for_today_is_accepted() -> None:
    request = example()
    request["requested_date"] = TODAY.isoformat()

    assert submit(request).requested_date == TODAY


def test_today_can_be_fixed_where_no_validation_context_can_be_passed() -> None:
    request = example()
    request["requested_date"] = "2026-03-01"

    with submitted_on(date(2026, 3, 2)), pytest.raises(ValidationError):
        RequestSubmission.model_validate(request)
    with submitted_on(date(2026, 3, 1)):
        assert RequestSubmission.model_validate(request).requested_date == date(2026, 3, 1)


def test_an_old_event_with_a_long_past_requested_date_still_parses() -> None:
    request = example()
    request["requested_date"] = "2019-01-15"
    request["measures"][0]["place"] = "a place since renamed"

    details = RequestDetails.model_validate(request)

    assert details.requested_date == date(2019, 1, 15)
    assert details.measures[0].place == "a place since renamed"


@pytest.mark.parametrize(
    ("path", "field"),
    [((), "priority"), (("requesting_authority",), "fax"), (("persons", 0), "passport")],
)
def test_an_unknown_field_is_refused_where_it_was_written(
    path: tuple[str | int, ...], field: str
) -> None:
    request = example()
    target: Any = request
    for step in path:
        target = target[step]
    target[field] = "anything"

    assert list(refusal(request)) == [(*path, field)]


def test_a_temporary_transfer_sent_directly_is_refused_at_that_measure() -> None:
    request = example()
    request["measures"].append(
        {"type": "temporary_transfer_of_detained_person", "place": "Sremska Mitrovica"}
    )

    errors = refusal(request)

    assert list(errors) == [("measures", 2, "type")]
    assert "must go ministry to ministry" in errors["measures", 2, "type"]


def test_a_temporary_transfer_through_the_ministry_is_accepted() -> None:
    request = example()
    request["channel"] = "ministry_of_justice"
    request["measures"].append(
        {"type": "temporary_transfer_of_detained_person", "place": "Sremska Mitrovica"}
    )

    assert len(submit(request).measures) == 3


def test_the_requesting_authority_must_give_its_reference_number() -> None:
    request = example()
    del request["requesting_authority"]["reference"]

    errors = refusal(request)

    assert errors == {
        ("requesting_authority", "reference"): (
            "the requesting authority must give its own reference number"
        )
    }


def test_the_requested_authority_may_have_no_reference_number() -> None:
    assert submit(example()).requested_authority is not None
    assert submit(example()).requested_authority.reference is None  # type: ignore[union-attr]


def test_a_country_is_upper_cased_and_must_be_two_letters() -> None:
    request = example()
    request["requesting_authority"]["country"] = " si "
    assert submit(request).requesting_authority.country == "SI"

    request["requesting_authority"]["country"] = "SLO"
    assert list(refusal(request)) == [("requesting_authority", "country")]


def test_a_contact_email_without_at_sign_is_refused() -> None:
    request = example()
    request["requesting_authority"]["contact"]["email"] = "international.ljubljana"

    assert list(refusal(request)) == [("requesting_authority", "contact", "email")]


def test_a_blank_summary_is_refused_because_spaces_are_stripped() -> None:
    request = example()
    request["summary_of_facts"] = "   "

    assert list(refusal(request)) == [("summary_of_facts",)]


def test_a_request_without_measures_is_refused() -> None:
    request = example()
    request["measures"] = []

    assert list(refusal(request)) == [("measures",)]


def test_a_received_request_cannot_be_changed_afterwards() -> None:
    details = RequestDetails.model_validate(EXAMPLE_REQUEST)

    with pytest.raises(ValidationError):
        details.urgency = Urgency.NORMAL  # type: ignore[misc]


def _minimal() -> dict[str, Any]:
    request = example()
    for optional in ("requested_authority", "persons", "related_requests", "requested_date"):
        del request[optional]
    del request["requesting_authority"]["contact"]
    del request["measures"][1]
    del request["measures"][0]["details"]
    request["urgency"], request["urgency_reasons"] = "normal", None
    return request


def _both_contacts() -> dict[str, Any]:
    request = example()
    request["requested_authority"]["contact"] = {"email": "mpp@rjt.example", "phone": "+381 11"}
    request["persons"][1].update(date_of_birth="1990-01-02", role="victim")
    return request


@pytest.mark.parametrize("request_", [example(), _minimal(), _both_contacts()])
def test_a_submission_is_the_document_of_the_payload_it_becomes(request_: dict[str, Any]) -> None:
    # intake seals and stores the submission's own document (no second validation through
    # `to_details`): it must be what the event's details hold, field for field.
    submission = submit(request_)

    assert submission.model_dump(mode="json") == to_details(submission).model_dump(mode="json")
