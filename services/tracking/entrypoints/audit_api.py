"""The auditor's HTTP API: export, checkpoints and the public key, verify, replay."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from services.tracking import audit
from services.tracking.domain.archive import checkpoint_to_document, public_key_pem
from shared.auth import Action, Grant, authorize
from shared.db import UnitOfWork
from shared.identifiers import IsoMoment

router = APIRouter(prefix="/v1/audit", tags=["audit"])
# Archive positions are bigint; a larger number would fail in the database, not be refused.
MAX_POSITION = 2**53 - 1
NDJSON = "application/x-ndjson"


def _uow(request: Request) -> UnitOfWork:
    uow: UnitOfWork = request.app.state.runtime.unit_of_work()
    return uow


class ReplayRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    until_position: int | None = Field(default=None, ge=1, le=MAX_POSITION)
    as_of: IsoMoment | None = Field(
        default=None, description="A moment with its offset, e.g. 2026-11-01T00:00:00+01:00."
    )
    apply: bool = Field(
        default=False, description="Replace the live read model (whole replay only)."
    )


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={200: {"description": "One JSON entry a line", "content": {NDJSON: {}}}},
)
async def export(
    request: Request,
    grant: Annotated[Grant, authorize(Action.READ_ARCHIVE)],
    from_position: Annotated[int, Query(ge=1, le=MAX_POSITION)] = 1,
) -> StreamingResponse:
    """The archive from a position as NDJSON: position, prev_hash, hash and the event."""
    return StreamingResponse(audit.export_lines(_uow(request), from_position), media_type=NDJSON)


@router.get("/checkpoints")
async def checkpoints(
    request: Request, grant: Annotated[Grant, authorize(Action.READ_ARCHIVE)]
) -> list[dict[str, Any]]:
    """Every signed checkpoint of the archive head, oldest first."""
    return [checkpoint_to_document(c) for c in await audit.all_checkpoints(_uow(request))]


@router.post("/checkpoints", status_code=201)
async def sign_now(
    request: Request, grant: Annotated[Grant, authorize(Action.SIGN_CHECKPOINT)]
) -> dict[str, Any]:
    """Sign the current head now (nothing new when the last checkpoint covers it)."""
    checkpoint = await audit.sign_head(_uow(request), request.app.state.signing_key)
    latest = checkpoint or (await audit.all_checkpoints(_uow(request)) or [None])[-1]
    return {
        "created": checkpoint is not None,
        "checkpoint": checkpoint_to_document(latest) if latest else None,
    }


@router.get("/public-key", response_class=PlainTextResponse)
async def public_key(
    request: Request, grant: Annotated[Grant, authorize(Action.READ_ARCHIVE)]
) -> str:
    """The Ed25519 public key (PEM) that checkpoints verify against."""
    return public_key_pem(request.app.state.signing_key.public_key()).decode()


@router.get("/verify")
async def verify(
    request: Request, grant: Annotated[Grant, authorize(Action.READ_ARCHIVE)]
) -> dict[str, Any]:
    """Check the whole chain and every checkpoint; name the first broken position."""
    result = await audit.verify_archive(
        _uow(request),
        request.app.state.signing_key,
        workers=request.app.state.settings.verify_workers,
    )
    problem = result.first_problem
    return {
        "ok": result.ok,
        "entries_checked": result.entries_checked,
        "head_position": result.head_position,
        "head_hash": result.head_hash.hex(),
        "checkpoints_checked": result.checkpoints_checked,
        "first_problem": (
            {"position": problem.position, "kind": problem.kind, "detail": problem.detail}
            if problem
            else None
        ),
    }


@router.post("/replay")
async def replay(
    body: ReplayRequest,
    request: Request,
    grant: Annotated[Grant, authorize(Action.REPLAY_ARCHIVE)],
) -> dict[str, Any]:
    """Rebuild every read model from the archive (whole, or up to a position or a moment)
    and compare with the live one."""
    return await audit.replay(
        _uow(request),
        until_position=body.until_position,
        as_of=body.as_of,
        apply=body.apply,
        workers=request.app.state.settings.replay_workers,
    )
