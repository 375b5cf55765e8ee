"""tracking's HTTP API: where every request stands, and what happened to it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from services.tracking import handlers
from services.tracking.domain.view import to_document
from shared.problems import problem_response
from shared.runtime import Runtime

router = APIRouter(prefix="/v1", tags=["tracking"])


class TimelineEntry(BaseModel):
    position: int
    event_id: str
    type: str
    source: str
    time: datetime
    recorded_at: datetime
    correlation_id: str | None
    causation_id: str | None
    data: dict[str, Any]


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


@router.get("/requests")
async def list_requests(
    request: Request,
    status: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Requests, newest first, optionally of one status."""
    views = await handlers.list_views(_runtime(request).unit_of_work(), status=status, limit=limit)
    return {"items": [to_document(view) for view in views]}


@router.get("/requests/{request_id}")
async def read(request_id: str, request: Request) -> dict[str, Any]:
    """The request as tracking sees it: status, offices, assignments and timestamps."""
    view = await handlers.get_view(_runtime(request).unit_of_work(), request_id)
    return to_document(view)


@router.get("/requests/{request_id}/timeline", response_model=list[TimelineEntry])
async def timeline(request_id: str, request: Request) -> list[dict[str, Any]]:
    """Every event of the request, in the order tracking received them."""
    return await handlers.get_timeline(_runtime(request).unit_of_work(), request_id)


def install(app: FastAPI) -> None:
    app.include_router(router)

    @app.exception_handler(handlers.RequestNotTrackedError)
    async def _not_found(request: Request, exc: handlers.RequestNotTrackedError) -> JSONResponse:
        return problem_response(404, "request-not-found", "Request not found", str(exc), request)
