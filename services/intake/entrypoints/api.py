"""intake's HTTP API: requesting authorities submit, read, withdraw; the department closes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from services.intake import handlers
from services.intake.domain.errors import (
    IllegalTransitionError,
    IntakeError,
    PersonalDataErasedError,
    RequestNotFoundError,
    RequestTooLargeError,
)
from services.intake.domain.request import AssistanceRequest
from services.intake.settings import Settings
from shared.auth import Action, Grant, authorize
from shared.events.vocabulary import ErasureGround, ExecutionResult, Outcome
from shared.identifiers import PathId
from shared.openapi import problems
from shared.personal_data.notice import IN_THE_CLEAR
from shared.personal_data.service_vault import ServiceKeyVault
from shared.problems import problem_response
from shared.request.submission import RequestSubmission
from shared.runtime import Runtime

router = APIRouter(prefix="/v1", tags=["requests"])


class RequestResource(BaseModel):
    """A request as intake holds it."""

    id: str
    domestic_reference: str
    # The requesting authority that submitted it; null when the department did.
    authority: str | None
    status: str
    received_at: datetime | None
    outcome: Outcome | None
    assignments: dict[str, ExecutionResult | None]
    allowed_actions: list[str]
    details: dict[str, Any] = Field(
        description="The request as submitted (the schema of `POST /v1/requests`). Once its "
        "personal data is erased, each personal field (`persons`, `summary_of_facts`, "
        "`urgency_reasons`, a measure's `details`, an authority's `contact`) reads "
        '`{"erased": true}`.'
    )
    personal_data_erased_at: datetime | None = None

    @classmethod
    def of(cls, request: AssistanceRequest, details: dict[str, Any]) -> RequestResource:
        return cls(
            id=request.id,
            domestic_reference=request.domestic_reference,
            authority=request.authority,
            status=request.status,
            received_at=request.received_at,
            outcome=request.outcome,
            assignments=request.assignments,
            allowed_actions=request.allowed(),
            details=details,
            personal_data_erased_at=request.personal_data_erased_at,
        )


class Withdrawal(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=2000, description=IN_THE_CLEAR)


class Closure(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Outcome
    grounds: str | None = Field(
        validate_default=True,
        default=None,
        max_length=4000,
        description=f"Required when the outcome is `refused`. {IN_THE_CLEAR}",
    )
    answer_summary: str | None = Field(
        default=None,
        max_length=10000,
        description=f"What goes back to the requester. {IN_THE_CLEAR}",
    )

    @field_validator("grounds")
    @classmethod
    def _refusal_states_grounds(cls, grounds: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("outcome") is Outcome.REFUSED and not (grounds and grounds.strip()):
            raise PydanticCustomError(
                "grounds_required", "a refusal must state its grounds (the article relied on)"
            )
        return grounds


class Erasure(BaseModel):
    model_config = ConfigDict(extra="forbid")
    legal_ground: ErasureGround
    case_reference: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="The data-protection case the erasure was decided in (not a person's name).",
    )


def _keys(request: Request) -> ServiceKeyVault:
    keys: ServiceKeyVault = request.app.state.key_vault
    return keys


async def _resource(request: Request, found: AssistanceRequest) -> RequestResource:
    """The request with its personal data opened (or marked erased) for the response."""
    assert found.details is not None
    details, _ = await _keys(request).reader().reveal(found.details.model_dump(mode="json"))
    return RequestResource.of(found, details)


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _settings(request: Request) -> Settings:
    settings: Settings = _runtime(request).settings  # type: ignore[assignment]
    return settings


@router.post("/requests", status_code=201, response_model=RequestResource, responses=problems(409))
async def submit(
    body: RequestSubmission,
    request: Request,
    response: Response,
    grant: Annotated[Grant, authorize(Action.SUBMIT_REQUEST)],
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> RequestResource:
    """Submit an assistance request. It gets an id and a domestic reference number and is
    published as `mla.request.received`. Send an `Idempotency-Key` to retry safely: the same
    key with the same body returns the same request; with another body it is a 409.
    A requesting authority's token makes the request its own; an operator submits for the
    department (a request received on paper). A request that, sealed for storage, would
    make an event larger than the topic carries (1 MB) is refused with 413, naming its
    largest parts."""
    runtime = _runtime(request)
    # The submission as its event's payload will hold it: the same document as
    # `to_details(body)` would dump (tested), without validating it a second time.
    document = body.model_dump(mode="json")
    created, is_new = await handlers.submit_request(
        request.app.state.reception,
        runtime.unit_of_work(),
        document,
        idempotency_key=idempotency_key,
        reference_prefix=_settings(request).reference_prefix,
        correlation_id=request.state.correlation_id,
        keys=_keys(request).reservoir,
        authority=grant.authority,
    )
    response.headers["Location"] = f"/v1/requests/{created.id}"
    if not is_new:
        response.headers["Idempotent-Replayed"] = "true"
        return await _resource(request, created)
    # What was just sealed is answered from the submission itself, not opened again.
    return RequestResource.of(created, document)


@router.get("/requests/{request_id}", response_model=RequestResource, responses=problems(404))
async def read(
    request_id: PathId, request: Request, grant: Annotated[Grant, authorize(Action.READ_REQUEST)]
) -> RequestResource:
    """The request, its status as intake knows it and the commands it allows now."""
    found = await handlers.get_request(_runtime(request).unit_of_work(), request_id, grant)
    return await _resource(request, found)


@router.post(
    "/requests/{request_id}/withdrawal",
    response_model=RequestResource,
    responses=problems(404, 409),
)
async def withdraw(
    request_id: PathId,
    body: Withdrawal,
    request: Request,
    grant: Annotated[Grant, authorize(Action.WITHDRAW_REQUEST)],
) -> RequestResource:
    """The requester withdraws the request; it is closed with outcome `withdrawn`."""
    changed = await handlers.withdraw_request(
        _runtime(request).unit_of_work(),
        request_id,
        body.reason,
        request.state.correlation_id,
        grant,
    )
    return await _resource(request, changed)


@router.post(
    "/requests/{request_id}/closure", response_model=RequestResource, responses=problems(404, 409)
)
async def close(
    request_id: PathId,
    body: Closure,
    request: Request,
    grant: Annotated[Grant, authorize(Action.CLOSE_REQUEST)],
) -> RequestResource:
    """Close the request with an outcome (the department's work: operators). `completed`
    needs every assignment executed; `refused` needs grounds. A report already on the
    topic that intake has not yet taken in is waited for, briefly, before a refusal."""
    runtime = _runtime(request)
    consumer, within = runtime.consumer, _settings(request).closure_catch_up_seconds
    changed = await handlers.close_request(
        runtime.unit_of_work(),
        request_id,
        body.outcome,
        body.grounds,
        body.answer_summary,
        request.state.correlation_id,
        grant,
        caught_up=(lambda: consumer.caught_up(request_id, within)) if consumer and within else None,
    )
    return await _resource(request, changed)


@router.post(
    "/requests/{request_id}/erasure", response_model=RequestResource, responses=problems(404, 409)
)
async def erase(
    request_id: PathId,
    body: Erasure,
    request: Request,
    grant: Annotated[Grant, authorize(Action.ERASE_PERSONAL_DATA)],
) -> RequestResource:
    """Erase the personal data of the request (an administrator's act: a person's
    data-protection request, or the end of the retention period). The request's data key is
    destroyed, so the personal fields of its details (persons, facts, urgency reasons,
    measures' details, contacts) become unreadable in every copy (intake, tracking, the
    archive, the topic), and `mla.request.personal_data_erased`
    records who ordered it, when and on what ground. References, offices, statuses and
    deadlines stay readable, and the archive still verifies. A second erasure is a 409."""
    erased = await handlers.erase_personal_data(
        _runtime(request).unit_of_work(),
        _keys(request).vault,
        request_id,
        erased_by=grant.principal.subject,
        legal_ground=body.legal_ground,
        case_reference=body.case_reference,
        correlation_id=request.state.correlation_id,
    )
    return await _resource(request, erased)


def install(app: FastAPI) -> None:
    """Mount the routes and render intake's refusals as problem+json."""
    app.include_router(router)

    @app.exception_handler(IntakeError)
    async def _refused(request: Request, exc: IntakeError) -> JSONResponse:
        if isinstance(exc, RequestNotFoundError):
            return problem_response(
                404, "request-not-found", "Request not found", str(exc), request
            )
        if isinstance(exc, IllegalTransitionError):
            return problem_response(
                409,
                "illegal-transition",
                "Not allowed in the current state",
                str(exc),
                request,
                state=str(exc.state),
                allowed_actions=exc.allowed,
            )
        if isinstance(exc, RequestTooLargeError):
            return problem_response(
                413, "request-too-large", "Content too large", str(exc), request
            )
        if isinstance(exc, PersonalDataErasedError):
            return problem_response(
                409, "personal-data-erased", "Personal data already erased", str(exc), request
            )
        if isinstance(exc, handlers.IdempotencyConflictError):
            return problem_response(
                409, "idempotency-key-reused", "Idempotency key reused", str(exc), request
            )
        return problem_response(400, "refused", "Refused", str(exc), request)
