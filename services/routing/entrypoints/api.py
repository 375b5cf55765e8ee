"""routing's HTTP API: preview, the office directory, routing by hand, assignments and
their execution reports."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request
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
from shared.auth import Action, Grant, authorize
from shared.db import UnitOfWork
from shared.identifiers import PathId
from shared.openapi import problems
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
async def preview(
    body: RequestSubmission,
    request: Request,
    grant: Annotated[Grant, authorize(Action.PREVIEW_ROUTING)],
) -> PreviewOut:
    """Which office(s) would get this request, and why, without creating anything."""
    details = to_details(body)
    decision, directory = await _routing(request).preview(_uow(request), details)
    return PreviewOut.of(decision, directory, details)


@router.get(
    "/requests/{request_id}/routing",
    response_model=RoutingOut,
    tags=["routing"],
    responses=problems(404),
)
async def routing_of(
    request_id: PathId, request: Request, grant: Annotated[Grant, authorize(Action.READ_ROUTING)]
) -> RoutingOut:
    """Where the request stands in routing, with the trace of the last decision."""
    return RoutingOut.of(await _routing(request).get(_uow(request), request_id))


@router.post(
    "/requests/{request_id}/routing",
    response_model=RoutingOut,
    tags=["routing"],
    responses=problems(404, 409),
)
async def route_by_hand(
    request_id: PathId,
    body: ManualRouting,
    request: Request,
    grant: Annotated[Grant, authorize(Action.ROUTE_REQUEST)],
) -> RoutingOut:
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
        operator=body.operator or grant.principal.subject,
        correlation_id=request.state.correlation_id,
    )
    return RoutingOut.of(routed)


@router.get(
    "/requests/{request_id}/assignments",
    response_model=list[AssignmentOut],
    tags=["assignments"],
    responses=problems(404),
)
async def assignments(
    request_id: PathId,
    request: Request,
    grant: Annotated[Grant, authorize(Action.READ_ASSIGNMENTS)],
) -> list[AssignmentOut]:
    """The request's assignments: one per executing office, with its measures and result.
    An executing office sees its own only (and none of a request it holds none of)."""
    found = assignments_of(await _routing(request).get(_uow(request), request_id))
    if grant.everything:
        return found
    own = [a for a in found if grant.covers(offices=[a.office_id])]
    if not own:  # answered exactly as for a request routing does not have
        raise RoutingNotFoundError(f"routing has no request with id {request_id}")
    return own


@router.post(
    "/assignments/{assignment_id}/execution",
    response_model=RoutingOut,
    tags=["assignments"],
    responses=problems(404, 409),
)
async def report_execution(
    assignment_id: PathId,
    body: ExecutionReport,
    request: Request,
    grant: Annotated[Grant, authorize(Action.REPORT_ASSIGNMENT)],
) -> RoutingOut:
    """The executing office reports `executed`, `partially_executed` or `not_executed` (an
    operator may record the report of an office that answered on paper)."""
    routed = await _routing(request).report_execution(
        _uow(request),
        assignment_id,
        body.result,
        body.details,
        request.state.correlation_id,
        office_id=_acting_office(grant),
    )
    return RoutingOut.of(routed)


@router.post(
    "/assignments/{assignment_id}/declination",
    response_model=RoutingOut,
    tags=["assignments"],
    responses=problems(404, 409),
)
async def decline(
    assignment_id: PathId,
    body: Declination,
    request: Request,
    grant: Annotated[Grant, authorize(Action.REPORT_ASSIGNMENT)],
) -> RoutingOut:
    """The executing office is not competent: the request is re-routed without it and the
    requester is told (`mla.request.assignment_declined`)."""
    routed = await _routing(request).decline(
        _uow(request),
        assignment_id,
        body.reason,
        request.state.correlation_id,
        office_id=_acting_office(grant),
    )
    return RoutingOut.of(routed)


def _acting_office(grant: Grant) -> str | None:
    # None: the department acts, on any assignment; else an office, on its own only.
    return None if grant.everything else grant.office_id


@router.get("/offices", tags=["offices"])
async def offices(
    request: Request,
    grant: Annotated[Grant, authorize(Action.READ_DIRECTORY)],
    kind: OfficeKind | None = None,
    place: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
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


@router.get("/offices/{office_id}", tags=["offices"], responses=problems(404))
async def office(
    office_id: PathId,
    request: Request,
    grant: Annotated[Grant, authorize(Action.READ_DIRECTORY)],
) -> dict[str, Any]:
    """One office of the current directory version."""
    directory = await _routing(request).directory(_uow(request))
    document = directory_to_dict(directory)
    directory.office(office_id)  # UnknownOfficeError -> 404
    found = next(o for o in document["offices"] if o["id"] == office_id)
    return {"directory_version": directory.version, **found}


@router.put("/offices/{office_id}", tags=["offices"], responses=problems(409))
async def edit_office(
    office_id: PathId,
    body: OfficeEdit,
    request: Request,
    grant: Annotated[Grant, authorize(Action.EDIT_DIRECTORY)],
) -> dict[str, Any]:
    """Create or change an office: the directory gets a new version; earlier routing
    decisions keep naming the version they used."""
    routing = _routing(request)
    async with _uow(request) as uow:
        current = await routing.directories.current(uow.session)
        document = directory_to_dict(current)
        edited = body.model_dump(mode="json", exclude={"change_note", "changed_by"})
        edited |= {"id": office_id}
        document["offices"] = [o for o in document["offices"] if o["id"] != office_id] + [edited]
        document["version"] = current.version + 1
        directory = directory_from_dict(document)
        await routing.directories.save(
            uow.session,
            directory,
            note=body.change_note,
            changed_by=body.changed_by or grant.principal.subject,
        )
        await uow.commit()
    return {"directory_version": directory.version, **edited}


@router.get("/directory", tags=["offices"])
async def directory_history(
    request: Request, grant: Annotated[Grant, authorize(Action.READ_DIRECTORY)]
) -> dict[str, Any]:
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
