"""The rules that hold at the moment a request is submitted, on top of its structure.

Used by intake's `POST /v1/requests` and routing's `POST /v1/routing/preview`. Unlike
`RequestDetails`, whose events must parse forever, a submission is checked against today's
date and the gazetteer: every measure's place must be a known municipality or city (and is
stored under its canonical name), and the requested date must not be past.

Both can be fixed for one validation: pass `context={"today": date, "gazetteer": Gazetteer}`
to `model_validate`, or, where the caller cannot pass a context (a FastAPI body), wrap the call
in `with submitted_on(day):`. Otherwise today is the calendar date in Belgrade.
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from shared.request.gazetteer import Gazetteer, load_gazetteer
from shared.request.model import (
    Authority,
    Contact,
    FactsText,
    Measure,
    MeasureText,
    Persons,
    RequestDetails,
    UrgencyText,
)

_today: ContextVar[date | None] = ContextVar("submission_today", default=None)


@contextmanager
def submitted_on(day: date) -> Iterator[None]:
    """Check the submissions validated inside the block as if today were `day`."""
    token = _today.set(day)
    try:
        yield
    finally:
        _today.reset(token)


def _context(info: ValidationInfo) -> Mapping[str, Any]:
    return info.context if isinstance(info.context, Mapping) else {}


def _submission_today(info: ValidationInfo) -> date:
    """The date a submission is checked against: context, then `submitted_on`, then Belgrade."""
    day = _context(info).get("today") or _today.get()
    # The prosecution works on Belgrade time: near midnight the server's UTC date is wrong.
    return day if day is not None else datetime.now(ZoneInfo("Europe/Belgrade")).date()


def _unknown_place(place: str, gazetteer: Gazetteer) -> PydanticCustomError:
    if municipalities := gazetteer.city_municipalities(place):
        return PydanticCustomError(
            "place_too_broad",
            "'{place}' is a city of several municipalities served by different offices: "
            "name the one where the measure is carried out ({municipalities})",
            {"place": place, "municipalities": ", ".join(municipalities)},
        )
    message = "'{place}' is not a known municipality or city of Serbia"
    ctx = {"place": place}
    if suggestion := gazetteer.suggest(place):
        message += ": did you mean '{suggestion}'?"
        ctx["suggestion"] = suggestion
    return PydanticCustomError("unknown_place", message, ctx)


class SubmittedAuthority(Authority):
    """An authority as submitted: its contact in the clear (it is sealed when stored)."""

    contact: Contact | None = None


class SubmittedMeasure(Measure):
    """A measure as submitted: its place must be a municipality or city the gazetteer knows."""

    details: MeasureText | None = None  # in the clear: sealed when stored

    @field_validator("place")
    @classmethod
    def _place_is_known(cls, place: str, info: ValidationInfo) -> str:
        # Checked on each measure rather than on the list, so that a bad place is reported
        # together with any other error of the request instead of hiding behind it.
        gazetteer: Gazetteer = _context(info).get("gazetteer") or load_gazetteer()
        canonical = gazetteer.resolve(place)
        if canonical is None:
            raise _unknown_place(place, gazetteer)
        return canonical  # the name routing looks up in municipality_index


class RequestSubmission(RequestDetails):
    """A request as submitted over HTTP: its structure, and the rules of the day it arrives."""

    # Narrowing a list is unsound only if someone assigns to it, and these models are frozen.
    measures: list[SubmittedMeasure] = Field(min_length=1, max_length=100)  # type: ignore[assignment]
    # Personal data arrives in the clear; only intake seals it, under the request's own key.
    requesting_authority: SubmittedAuthority = Field(
        description="The authority asking for assistance; its reference number is required."
    )
    requested_authority: SubmittedAuthority | None = None
    summary_of_facts: FactsText
    persons: Persons = Field(default_factory=list)
    urgency_reasons: UrgencyText | None = Field(
        None, validate_default=True, description="Required when the request is urgent."
    )

    @field_validator("requested_date")
    @classmethod
    def _requested_date_is_not_past(cls, day: date | None, info: ValidationInfo) -> date | None:
        today = _submission_today(info)
        if day is not None and day < today:
            raise PydanticCustomError(
                "requested_date_past",
                "the requested date {day} is already past (today is {today})",
                {"day": day.isoformat(), "today": today.isoformat()},
            )
        return day


def to_details(submission: RequestSubmission) -> RequestDetails:
    """The submission as the event payload: the same content without the rules of the day."""
    return RequestDetails.model_validate(submission.model_dump())
