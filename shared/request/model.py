"""The assistance request as it travels inside the `mla.request.received` event (DOMAIN.md).

These models check structure only: types, the controlled vocabulary, lengths, required fields
and the cross-field rules that never change with time. Nothing here reads the clock or the
reference data, because an event stored today must still parse years from now. The rules of
the moment of submission live in `submission.py`.
"""

from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

from shared.events.vocabulary import (
    Channel,
    Confidentiality,
    Direction,
    LegalBasis,
    MeasureType,
    OffenceCategory,
    PersonRole,
    TranslationStatus,
    Urgency,
)
from shared.personal_data.sealing import SealedValue

# A complete incoming request, reused by the OpenAPI schema, the tests, the README and the demo.
# The persons are invented; the date lies far ahead so that the example stays submittable.
EXAMPLE_REQUEST: dict[str, Any] = {
    "direction": "incoming",
    "channel": "direct",
    "legal_basis": "convention_1959_protocol_2",
    "requesting_authority": {
        "name": "District State Prosecutor's Office in Ljubljana",
        "country": "SI",
        "reference": "Kt 1234/2026",
        "contact": {
            "email": "international@ljubljana-prosecution.example",
            "phone": "+386 1 000 0000",
            "address": "Ljubljana, Slovenia",
        },
    },
    "requested_authority": {
        "name": "Supreme Public Prosecution Office of the Republic of Serbia",
        "country": "RS",
    },
    "summary_of_facts": (
        "Between March and November 2025 an organised group shipped cocaine from Serbia to "
        "Slovenia hidden in lorries of a transport company registered in Subotica. A shipment "
        "of 12 kg was seized in Ljubljana on 14 November 2025."
    ),
    "offence_category": "trafficking_drugs",
    "offences": [
        {
            "qualification": "Criminal Code of Serbia art. 246 (unlawful production and "
            "trafficking of narcotic drugs); Criminal Code of Slovenia art. 186",
            "category": "trafficking_drugs",
            "max_penalty_years": 12,
            "criminal_code_article": 246,
            "linked_to_organized_crime": False,
        }
    ],
    "persons": [
        {
            "role": "suspect",
            "name": "Dragan Example",
            "date_of_birth": "1984-05-17",
            "nationality": "RS",
        },
        {"role": "witness", "name": "Mira Sample", "nationality": "RS"},
    ],
    "measures": [
        {
            "type": "search_and_seizure",
            "place": "Subotica",
            "details": "Premises and lorries of the transport company; seize the delivery records.",
        },
        {
            "type": "hearing_witness",
            "place": "Novi Sad",
            "details": "Hearing of the company's former dispatcher on the shipments.",
        },
    ],
    "urgency": "urgent",
    "urgency_reasons": "The suspect's trial in Ljubljana opens on 15 September 2027 and the "
    "company is being wound up, so its records may be destroyed.",
    "requested_date": "2027-06-30",
    "confidentiality": "confidential",
    "language": "sl",
    "translation_status": "translated",
    "related_requests": [{"reference": "Kt 987/2025", "relation": "earlier request, same case"}],
}


def located_error(errors: list[InitErrorDetails]) -> ValidationError:
    """Errors located below the field whose validator raises them (pydantic prefixes the field's
    name), so that a cross-field rule points at the very value the clerk must change."""
    return ValidationError.from_exception_data("RequestDetails", errors)


def _country_code(value: str) -> str:
    code = value.upper()
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        raise PydanticCustomError(
            "country_code", "give the country as its ISO 3166-1 alpha-2 code, such as 'SI' or 'RS'"
        )
    return code


def _email(value: str) -> str:
    if "@" not in value:
        raise PydanticCustomError("email", "an e-mail address must contain '@'")
    return value


CountryCode = Annotated[
    str,
    AfterValidator(_country_code),
    # The validator refuses anything but two letters (after stripping), with a clearer
    # message than a length error would give; the schema states the same bound.
    Field(examples=["SI"], json_schema_extra={"pattern": "^[A-Z]{2}$", "maxLength": 2}),
]
_MODEL = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)
# Far above any real case, far below the 64-bit integers the event is serialised with.
MAX_AMOUNT_RSD = 10**15


class Contact(BaseModel):
    """How to reach an authority (an office, never a private person)."""

    model_config = _MODEL
    email: Annotated[str, AfterValidator(_email)] | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=100)
    address: str | None = Field(None, max_length=500)


class Authority(BaseModel):
    """A judicial or central authority taking part in the request."""

    model_config = _MODEL
    name: str = Field(min_length=1, max_length=300, description="Official name of the authority.")
    country: CountryCode = Field(description="ISO 3166-1 alpha-2 code, upper-cased on input.")
    reference: str | None = Field(
        None, min_length=1, max_length=100, description="The authority's own case number."
    )
    # Sealed where the request is stored: an e-mail address or a phone may name an official.
    contact: Contact | SealedValue | None = None


class Offence(BaseModel):
    """An offence of the case with its legal qualification and the facts routing looks at."""

    model_config = _MODEL
    qualification: str = Field(min_length=1, max_length=300, description="Legal qualification.")
    category: OffenceCategory
    max_penalty_years: int | None = Field(
        None, ge=0, le=40, description="Maximum statutory penalty, in years of imprisonment."
    )
    criminal_code_article: int | None = Field(
        None,
        ge=1,
        le=500,
        description="Article of the Serbian Criminal Code (war crimes: 370-386).",
    )
    estimated_gain_rsd: int | None = Field(
        None, ge=0, le=MAX_AMOUNT_RSD, description="Estimated gain, in RSD."
    )
    public_procurement_value_rsd: int | None = Field(
        None,
        ge=0,
        le=MAX_AMOUNT_RSD,
        description="Value of the public procurement concerned, in RSD.",
    )
    committed_by_senior_official: bool = Field(
        False,
        description="Committed in office by an official elected or appointed by the Assembly, the "
        "President, the Government, the Supreme Court or the judicial or prosecutorial councils.",
    )
    linked_to_organized_crime: bool = False


class Person(BaseModel):
    """A person concerned by the request. Personal data: never logged."""

    model_config = _MODEL
    role: PersonRole
    name: str = Field(min_length=1, max_length=200)
    date_of_birth: date | None = None
    nationality: CountryCode | None = None


# The personal parts of a request are plain text in a submission and when shown, and a
# `SealedValue` wherever the request is stored (shared/personal_data/request_fields.py).
FactsText = Annotated[str, Field(min_length=1, max_length=10000)]
UrgencyText = Annotated[str, Field(min_length=1, max_length=2000)]
MeasureText = Annotated[str, Field(max_length=2000)]
Persons = Annotated[list[Person], Field(max_length=200)]


class Measure(BaseModel):
    """One measure requested, with the place in Serbia where it must be carried out."""

    model_config = _MODEL
    type: MeasureType
    place: str = Field(
        min_length=1, max_length=100, description="Municipality or city where it is carried out."
    )
    details: MeasureText | SealedValue | None = None


class RelatedRequest(BaseModel):
    """An earlier request this one follows up or is linked to."""

    model_config = _MODEL
    reference: str = Field(min_length=1, max_length=100)
    relation: str | None = Field(None, max_length=300, description="e.g. 'supplementary request'.")


class RequestDetails(BaseModel):
    """The full content of an assistance request, as carried by `mla.request.received`."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        frozen=True,
        json_schema_extra={"examples": [EXAMPLE_REQUEST]},
    )
    direction: Direction
    channel: Channel
    legal_basis: LegalBasis
    requesting_authority: Authority = Field(
        description="The authority asking for assistance; its reference number is required."
    )
    requested_authority: Authority | None = None
    summary_of_facts: FactsText | SealedValue
    offence_category: OffenceCategory = Field(description="The main category of the case.")
    offences: list[Offence] = Field(min_length=1, max_length=50)
    persons: Persons | SealedValue = Field(default_factory=list)
    measures: list[Measure] = Field(min_length=1, max_length=100)
    urgency: Urgency = Urgency.NORMAL
    urgency_reasons: UrgencyText | SealedValue | None = Field(
        None,
        validate_default=True,
        description="Required when the request is urgent.",
    )
    requested_date: date | None = Field(None, description="Date the requester asks for.")
    confidentiality: Confidentiality = Confidentiality.NORMAL
    language: str = Field("en", max_length=2, pattern=r"^[a-z]{2}$", description="ISO 639-1 code.")
    translation_status: TranslationStatus = TranslationStatus.NOT_NEEDED
    related_requests: list[RelatedRequest] = Field(default_factory=list, max_length=50)

    @field_validator("requesting_authority")
    @classmethod
    def _requester_gives_its_reference(cls, authority: Authority) -> Authority:
        # Every reply and reminder quotes the foreign reference: without it nothing can be matched.
        if authority.reference is None:
            message = "the requesting authority must give its own reference number"
            error = PydanticCustomError("reference_required", message)
            raise located_error([{"type": error, "loc": ("reference",), "input": None}])
        return authority

    @field_validator("measures")
    @classmethod
    def _transfer_goes_ministry_to_ministry(
        cls, measures: list[Measure], info: ValidationInfo
    ) -> list[Measure]:
        channel = info.data.get("channel")
        if channel is None or channel == Channel.MINISTRY_OF_JUSTICE:
            return measures
        error = PydanticCustomError(
            "channel_not_allowed",
            "a temporary transfer of a detained person must go ministry to ministry "
            "(channel 'ministry_of_justice'), not via '{channel}'",
            {"channel": channel.value},
        )
        errors: list[InitErrorDetails] = [
            {"type": error, "loc": (position, "type"), "input": measure.type.value}
            for position, measure in enumerate(measures)
            if measure.type == MeasureType.TEMPORARY_TRANSFER_OF_DETAINED_PERSON
        ]
        if errors:
            raise located_error(errors)
        return measures

    @field_validator("urgency_reasons")
    @classmethod
    def _urgency_is_explained(
        cls, reasons: str | SealedValue | None, info: ValidationInfo
    ) -> str | SealedValue | None:
        if reasons is None and info.data.get("urgency") == Urgency.URGENT:
            raise PydanticCustomError(
                "urgency_reasons_required",
                "an urgent request must give the reasons for its urgency",
            )
        return reasons
