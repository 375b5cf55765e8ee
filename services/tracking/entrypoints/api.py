"""tracking's HTTP API: where every request stands and what happened to it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from services.tracking import handlers
from services.tracking.adapters.read_model import RequestFilter
from services.tracking.domain.view import to_document
from shared.auth import Action, Grant, authorize
from shared.db import UnitOfWork
from shared.identifiers import IsoMoment, PathId
from shared.openapi import problems
from shared.personal_data.service_vault import ServiceKeyVault
from shared.problems import problem_response

router = APIRouter(prefix="/v1", tags=["tracking"])


def _uow(request: Request) -> UnitOfWork:
    uow: UnitOfWork = request.app.state.runtime.unit_of_work()
    return uow


@router.get("/requests")
async def list_requests(
    request: Request,
    grant: Annotated[Grant, authorize(Action.TRACK_REQUESTS)],
    status: Annotated[
        list[Annotated[str, Field(max_length=40)]] | None, Query(max_length=10)
    ] = None,
    office: Annotated[str | None, Query(max_length=100)] = None,
    country: Annotated[str | None, Query(min_length=2, max_length=2)] = None,
    channel: Annotated[str | None, Query(max_length=40)] = None,
    offence_category: Annotated[str | None, Query(max_length=40)] = None,
    urgency: Annotated[str | None, Query(max_length=20)] = None,
    overdue: bool = False,
    due_soon: bool = False,
    received_from: IsoMoment | None = None,
    received_to: IsoMoment | None = None,
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
        reach=None if grant.everything else (grant.authority, grant.office_id),
    )
    views, next_cursor = await handlers.list_views(
        _uow(request), where, descending=sort.startswith("-"), cursor=cursor, limit=limit
    )
    return {"items": [_summary(to_document(v)) for v in views], "next_cursor": next_cursor}


@router.get("/requests/{request_id}", responses=problems(404))
async def read(
    request_id: PathId, request: Request, grant: Annotated[Grant, authorize(Action.TRACK_REQUESTS)]
) -> dict[str, Any]:
    """The request: status, parties, measures, assignments, deadlines and timestamps.
    Its personal data is shown while its key exists; once erased, each personal field of
    `details` reads `{"erased": true}` and `personal_data_erased_at` says when."""
    view, deadlines = await handlers.get_view(_uow(request), request_id)
    if not grant.covers(authority=view.authority, offices=view.offices):
        raise handlers.RequestNotTrackedError(request_id)  # as if it were not there
    document = to_document(view)
    if document.get("details") is not None:
        keys: ServiceKeyVault = request.app.state.key_vault
        document["details"], _ = await keys.reader().reveal(document["details"])
    return {**document, "deadlines": deadlines}


@router.get("/requests/{request_id}/timeline", responses=problems(404))
async def timeline(
    request_id: PathId, request: Request, grant: Annotated[Grant, authorize(Action.TRACK_REQUESTS)]
) -> list[dict[str, Any]]:
    """Every event of the request, with its position in the archive and its hash."""
    await handlers.require_reach(_uow(request), request_id, grant)
    return await handlers.get_timeline(_uow(request), request_id)


@router.get("/stats")
async def stats(
    request: Request, grant: Annotated[Grant, authorize(Action.READ_STATS)]
) -> dict[str, Any]:
    """Counts per status, office, country and category; median and 90th-percentile hours
    per stage; requests received per week. Counts are exact as of the last event projected;
    stage hours are within 1 % (30 seconds under a minute): they come from a histogram
    of 1 %-wide buckets, which keeps this answer as fast at a million requests as at ten."""
    return await handlers.get_stats(_uow(request))


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
