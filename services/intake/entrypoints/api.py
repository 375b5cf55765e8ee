"""intake's HTTP API: requesting authorities submit, read, withdraw; the department closes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, FastAPI, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from services.intake import handlers
from services.intake.domain.errors import (
    IllegalTransitionError,
    IntakeError,
    RequestNotFoundError,
)
from services.intake.domain.request import AssistanceRequest
from shared.events.vocabulary import ExecutionResult, Outcome
from shared.problems import problem_response
from shared.request.model import RequestDetails
from shared.request.submission import RequestSubmission, to_details
from shared.runtime import Runtime

router = APIRouter(prefix="/v1", tags=["requests"])


class RequestResource(BaseModel):
    """A request as intake holds it."""

    id: str
    domestic_reference: str
    status: str
    received_at: datetime | None
    outcome: Outcome | None
    assignments: dict[str, ExecutionResult | None]
    allowed_actions: list[str]
    details: RequestDetails

    @classmethod
    def of(cls, request: AssistanceRequest) -> RequestResource:
        assert request.details is not None
        return cls(
            id=request.id,
            domestic_reference=request.domestic_reference,
            status=request.status,
            received_at=request.received_at,
            outcome=request.outcome,
            assignments=request.assignments,
            allowed_actions=request.allowed(),
            details=request.details,
        )


class Withdrawal(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=2000)


class Closure(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Outcome
    grounds: str | None = Field(
        validate_default=True,
        default=None,
        max_length=4000,
        description="Required when the outcome is `refused`.",
    )
    answer_summary: str | None = Field(
        default=None, max_length=10000, description="What goes back to the requester."
    )

    @field_validator("grounds")
    @classmethod
    def _refusal_states_grounds(cls, grounds: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("outcome") is Outcome.REFUSED and not (grounds and grounds.strip()):
            raise PydanticCustomError(
                "grounds_required", "a refusal must state its grounds (the article relied on)"
            )
        return grounds


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


@router.post("/requests", status_code=201, response_model=RequestResource)
async def submit(
    body: RequestSubmission,
    request: Request,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> RequestResource:
    """Submit an assistance request. It gets an id and a domestic reference number and is
    published as `mla.request.received`. Send an `Idempotency-Key` to retry safely: the same
    key with the same body returns the same request; with another body it is a 409."""
    runtime = _runtime(request)
    created, is_new = await handlers.submit_request(
        runtime.unit_of_work(),
        to_details(body),
        idempotency_key=idempotency_key,
        reference_prefix=runtime.settings.reference_prefix,  # type: ignore[attr-defined]
        correlation_id=request.state.correlation_id,
    )
    response.headers["Location"] = f"/v1/requests/{created.id}"
    if not is_new:
        response.headers["Idempotent-Replayed"] = "true"
    return RequestResource.of(created)


@router.get("/requests/{request_id}", response_model=RequestResource)
async def read(request_id: str, request: Request) -> RequestResource:
    """The request, its status as intake knows it and the commands it allows now."""
    found = await handlers.get_request(_runtime(request).unit_of_work(), request_id)
    return RequestResource.of(found)


@router.post("/requests/{request_id}/withdrawal", response_model=RequestResource)
async def withdraw(request_id: str, body: Withdrawal, request: Request) -> RequestResource:
    """The requester withdraws the request; it is closed with outcome `withdrawn`."""
    changed = await handlers.withdraw_request(
        _runtime(request).unit_of_work(), request_id, body.reason, request.state.correlation_id
    )
    return RequestResource.of(changed)


@router.post("/requests/{request_id}/closure", response_model=RequestResource)
async def close(request_id: str, body: Closure, request: Request) -> RequestResource:
    """Close the request with an outcome. `completed` needs every assignment executed;
    `refused` needs grounds."""
    changed = await handlers.close_request(
        _runtime(request).unit_of_work(),
        request_id,
        body.outcome,
        body.grounds,
        body.answer_summary,
        request.state.correlation_id,
    )
    return RequestResource.of(changed)


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
        if isinstance(exc, handlers.IdempotencyConflictError):
            return problem_response(
                409, "idempotency-key-reused", "Idempotency key reused", str(exc), request
            )
        return problem_response(400, "refused", "Refused", str(exc), request)
