"""routing's HTTP API: preview, the office directory, routing by hand, assignments and
their execution reports."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from services.routing.domain.codec import directory_from_dict, directory_to_dict
from services.routing.domain.directory import DirectoryError, OfficeKind, UnknownOfficeError
from services.routing.domain.errors import (
    IllegalTransitionError,
    InvalidRoutingError,
    RoutingError,
    RoutingNotFoundError,
)
from services.routing.entrypoints.schemas import (
    AssignmentOut,
    Declination,
    ExecutionReport,
    ManualRouting,
    OfficeEdit,
    PreviewOut,
    RoutingOut,
    assignments_of,
)
from services.routing.handlers import Routing
from shared.db import UnitOfWork
from shared.problems import problem_response
from shared.request.submission import RequestSubmission, to_details

router = APIRouter(prefix="/v1")


def _uow(request: Request) -> UnitOfWork:
    uow: UnitOfWork = request.app.state.runtime.unit_of_work()
    return uow


def _routing(request: Request) -> Routing:
    routing: Routing = request.app.state.routing
    return routing


@router.post("/routing/preview", response_model=PreviewOut, tags=["routing"])
async def preview(body: RequestSubmission, request: Request) -> PreviewOut:
    """Which office(s) would get this request, and why, without creating anything."""
    details = to_details(body)
    decision, directory = await _routing(request).preview(_uow(request), details)
    return PreviewOut.of(decision, directory, details)


@router.get("/requests/{request_id}/routing", response_model=RoutingOut, tags=["routing"])
async def routing_of(request_id: str, request: Request) -> RoutingOut:
    """Where the request stands in routing, with the trace of the last decision."""
    return RoutingOut.of(await _routing(request).get(_uow(request), request_id))


@router.post("/requests/{request_id}/routing", response_model=RoutingOut, tags=["routing"])
async def route_by_hand(request_id: str, body: ManualRouting, request: Request) -> RoutingOut:
    """An operator routes or re-routes the request, with a reason. Name the offices and
    their measures, or leave `assignments` out to run the rules again."""
    plans = (
        [(a.office_id, tuple(a.measures)) for a in body.assignments]
        if body.assignments is not None
        else None
    )
    routed = await _routing(request).route_by_hand(
        _uow(request),
        request_id,
        plans,
        reason=body.reason,
        operator=body.operator,
        correlation_id=request.state.correlation_id,
    )
    return RoutingOut.of(routed)


@router.get(
    "/requests/{request_id}/assignments", response_model=list[AssignmentOut], tags=["assignments"]
)
async def assignments(request_id: str, request: Request) -> list[AssignmentOut]:
    """The request's assignments: one per executing office, with its measures and result."""
    return assignments_of(await _routing(request).get(_uow(request), request_id))


@router.post(
    "/assignments/{assignment_id}/execution", response_model=RoutingOut, tags=["assignments"]
)
async def report_execution(
    assignment_id: str, body: ExecutionReport, request: Request
) -> RoutingOut:
    """The executing office reports `executed`, `partially_executed` or `not_executed`."""
    routed = await _routing(request).report_execution(
        _uow(request), assignment_id, body.result, body.details, request.state.correlation_id
    )
    return RoutingOut.of(routed)


@router.post(
    "/assignments/{assignment_id}/declination", response_model=RoutingOut, tags=["assignments"]
)
async def decline(assignment_id: str, body: Declination, request: Request) -> RoutingOut:
    """The executing office is not competent: the request is re-routed without it and the
    requester is told (`mla.request.assignment_declined`)."""
    routed = await _routing(request).decline(
        _uow(request), assignment_id, body.reason, request.state.correlation_id
    )
    return RoutingOut.of(routed)


@router.get("/offices", tags=["offices"])
async def offices(
    request: Request, kind: OfficeKind | None = None, place: str | None = None
) -> dict[str, Any]:
    """The office directory (current version), optionally of one kind or serving one place."""
    directory = await _routing(request).directory(_uow(request))
    document = directory_to_dict(directory)
    items = [o for o in document["offices"] if kind is None or o["kind"] == kind]
    if place is not None:
        found = directory.jurisdiction(place)
        serving = {found.basic_office_id, found.higher_office_id} if found else set()
        items = [o for o in items if o["id"] in serving]
    return {"directory_version": directory.version, "items": sorted(items, key=lambda o: o["id"])}


@router.get("/offices/{office_id}", tags=["offices"])
async def office(office_id: str, request: Request) -> dict[str, Any]:
    """One office of the current directory version."""
    directory = await _routing(request).directory(_uow(request))
    document = directory_to_dict(directory)
    directory.office(office_id)  # UnknownOfficeError -> 404
    found = next(o for o in document["offices"] if o["id"] == office_id)
    return {"directory_version": directory.version, **found}


@router.put("/offices/{office_id}", tags=["offices"])
async def edit_office(office_id: str, body: OfficeEdit, request: Request) -> dict[str, Any]:
    """Create or change an office: the directory gets a new version; earlier routing
    decisions keep naming the version they used."""
    routing = _routing(request)
    async with _uow(request) as uow:
        current = await routing.directories.current(uow.session)
        document = directory_to_dict(current)
        edited = body.model_dump(exclude={"change_note", "changed_by"}) | {"id": office_id}
        document["offices"] = [o for o in document["offices"] if o["id"] != office_id] + [edited]
        document["version"] = current.version + 1
        directory = directory_from_dict(document)
        await routing.directories.save(
            uow.session, directory, note=body.change_note, changed_by=body.changed_by
        )
        await uow.commit()
    return {"directory_version": directory.version, **edited}


@router.get("/directory", tags=["offices"])
async def directory_history(request: Request) -> dict[str, Any]:
    """The versions of the office directory, newest first."""
    routing = _routing(request)
    async with _uow(request) as uow:
        versions = await routing.directories.history(uow.session)
    return {"current": versions[0]["version"] if versions else None, "versions": versions}


def install(app: FastAPI) -> None:
    """Mount the routes and render routing's refusals as problem+json."""
    app.include_router(router)

    @app.exception_handler(RoutingError)
    async def _refused(request: Request, exc: RoutingError) -> JSONResponse:
        if isinstance(exc, RoutingNotFoundError):
            return problem_response(404, "not-found", "Not found", str(exc), request)
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
        assert isinstance(exc, InvalidRoutingError)
        return problem_response(422, "invalid-routing", "Invalid routing", str(exc), request)

    @app.exception_handler(DirectoryError)
    async def _directory(request: Request, exc: DirectoryError) -> JSONResponse:
        if isinstance(exc, UnknownOfficeError):
            return problem_response(404, "office-not-found", "Office not found", str(exc), request)
        return problem_response(
            422, "invalid-directory", "The directory would be inconsistent", str(exc), request
        )
