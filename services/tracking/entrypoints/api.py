"""tracking's HTTP API: where every request stands and what happened to it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime

from services.tracking import handlers
from services.tracking.adapters.read_model import RequestFilter
from services.tracking.domain.view import to_document
from shared.db import UnitOfWork
from shared.problems import problem_response

router = APIRouter(prefix="/v1", tags=["tracking"])


def _uow(request: Request) -> UnitOfWork:
    uow: UnitOfWork = request.app.state.runtime.unit_of_work()
    return uow


@router.get("/requests")
async def list_requests(
    request: Request,
    status: Annotated[list[str] | None, Query(max_length=10)] = None,
    office: Annotated[str | None, Query(max_length=100)] = None,
    country: Annotated[str | None, Query(min_length=2, max_length=2)] = None,
    channel: Annotated[str | None, Query(max_length=40)] = None,
    offence_category: Annotated[str | None, Query(max_length=40)] = None,
    urgency: Annotated[str | None, Query(max_length=20)] = None,
    overdue: bool = False,
    due_soon: bool = False,
    received_from: AwareDatetime | None = None,
    received_to: AwareDatetime | None = None,
    q: Annotated[
        str | None,
        Query(
            min_length=2,
            max_length=100,
            description="Text in the references or the authority's name.",
        ),
    ] = None,
    sort: Literal["received_at", "-received_at"] = "-received_at",
    cursor: Annotated[str | None, Query(max_length=300)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    """Requests matching every filter given, a page at a time (pass `next_cursor` back)."""
    where = RequestFilter(
        status=tuple(status or ()),
        office=office,
        country=country.upper() if country else None,
        channel=channel,
        offence_category=offence_category,
        urgency=urgency,
        overdue=overdue,
        due_soon=due_soon,
        received_from=received_from,
        received_to=received_to,
        text=q,
    )
    views, next_cursor = await handlers.list_views(
        _uow(request), where, descending=sort.startswith("-"), cursor=cursor, limit=limit
    )
    return {"items": [_summary(to_document(v)) for v in views], "next_cursor": next_cursor}


@router.get("/requests/{request_id}")
async def read(request_id: str, request: Request) -> dict[str, Any]:
    """The request: status, parties, measures, assignments, deadlines and timestamps."""
    view, deadlines = await handlers.get_view(_uow(request), request_id)
    return {**to_document(view), "deadlines": deadlines}


@router.get("/requests/{request_id}/timeline")
async def timeline(request_id: str, request: Request) -> list[dict[str, Any]]:
    """Every event of the request, with its position in the archive and its hash."""
    return await handlers.get_timeline(_uow(request), request_id)


@router.get("/stats")
async def stats(request: Request) -> dict[str, Any]:
    """Counts per status, office, country and category; median and 90th-percentile hours
    per stage; requests received per week. Exact while they are quick to compute; on a
    large read model, at most `TRACKING_STATS_MAX_AGE_SECONDS` old."""
    result: dict[str, Any] = await request.app.state.stats.current()
    return result


def _summary(document: dict[str, Any]) -> dict[str, Any]:
    # The list shows what an operator scans; parties and measures are on the detail page.
    return {k: v for k, v in document.items() if k != "details"}


def install(app: FastAPI) -> None:
    app.include_router(router)

    @app.exception_handler(handlers.RequestNotTrackedError)
    async def _not_found(request: Request, exc: handlers.RequestNotTrackedError) -> JSONResponse:
        return problem_response(404, "request-not-found", "Request not found", str(exc), request)

    @app.exception_handler(handlers.InvalidCursorError)
    async def _cursor(request: Request, exc: handlers.InvalidCursorError) -> JSONResponse:
        return problem_response(
            422,
            "invalid-cursor",
            "Invalid cursor",
            str(exc),
            request,
            errors=[{"field": "cursor", "message": str(exc), "type": "invalid"}],
        )
