"""notify's HTTP API: subscriptions, the delivery log and manual retries."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Literal

from fastapi import APIRouter, FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse

from services.notify import handlers
from services.notify.adapters.delivery_log import DeliveryFilter, InvalidCursorError
from services.notify.adapters.targets import TargetGuard
from services.notify.domain.draft import SubscriptionDraft
from services.notify.domain.errors import (
    DeliveryNotFoundError,
    DeliveryNotRetryableError,
    InvalidSubscriptionError,
    NotifyError,
    SubscriptionNotFoundError,
)
from services.notify.domain.subscription import Owner, OwnerKind
from services.notify.entrypoints.schemas import (
    DeliveryOut,
    DeliveryPage,
    SubscriptionCreated,
    SubscriptionIn,
    SubscriptionList,
    SubscriptionOut,
)
from shared.auth import Action, Grant, authorize
from shared.auth.errors import ForbiddenError
from shared.db import UnitOfWork
from shared.identifiers import Cursor, PathId, QueryId
from shared.openapi import problems
from shared.problems import InvalidInputError, NotFoundError, problem_response

router = APIRouter(prefix="/v1")

Status = Literal["pending", "failed", "delivered", "dead", "cancelled"]
# The caller of a subscription route: the department, or an authority or office (its own).
Subscriber = Annotated[Grant, authorize(Action.MANAGE_SUBSCRIPTIONS)]


def _uow(request: Request) -> UnitOfWork:
    uow: UnitOfWork = request.app.state.runtime.unit_of_work()
    return uow


def _guard(request: Request) -> TargetGuard:
    guard: TargetGuard = request.app.state.guard
    return guard


@router.post(
    "/subscriptions", status_code=201, response_model=SubscriptionCreated, tags=["subscriptions"]
)
async def subscribe(
    body: SubscriptionIn, request: Request, response: Response, grant: Subscriber
) -> SubscriptionCreated:
    """Subscribe a webhook or an e-mail recipient list. A webhook's secret (made for it when
    not given) is in this response only. A webhook URL must be http(s) and, unless the
    deployment allows it, resolve to public addresses only: otherwise 422 on `url`.
    A requesting authority or an executing office subscribes only to what it may read:
    its own requests, or the requests it holds an assignment of (403 for another audience)."""
    draft = replace(body.draft(), owner=_owner(grant))
    _refuse_foreign_audience(draft)
    subscription = await handlers.subscribe(_uow(request), draft, _guard(request))
    response.headers["Location"] = f"/v1/subscriptions/{subscription.id}"
    created = SubscriptionOut.of(subscription).model_dump()
    return SubscriptionCreated(**created, secret=subscription.secret)


@router.get("/subscriptions", response_model=SubscriptionList, tags=["subscriptions"])
async def subscriptions(request: Request, grant: Subscriber) -> SubscriptionList:
    """Every active subscription the caller may see: the department sees all, an authority
    or an office its own (secrets are never shown)."""
    items = await handlers.subscriptions(_uow(request), _owner(grant))
    return SubscriptionList(items=[SubscriptionOut.of(s) for s in items])


@router.get(
    "/subscriptions/{subscription_id}",
    response_model=SubscriptionOut,
    tags=["subscriptions"],
    responses=problems(404),
)
async def subscription(
    subscription_id: PathId, request: Request, grant: Subscriber
) -> SubscriptionOut:
    """One active subscription."""
    found = await handlers.subscription(_uow(request), subscription_id, _owner(grant))
    return SubscriptionOut.of(found)


@router.delete(
    "/subscriptions/{subscription_id}",
    status_code=204,
    tags=["subscriptions"],
    responses=problems(404),
)
async def unsubscribe(subscription_id: PathId, request: Request, grant: Subscriber) -> Response:
    """Delete a subscription: nothing more is sent to it and its pending deliveries are
    cancelled; its delivery log stays."""
    await handlers.unsubscribe(_uow(request), subscription_id, _owner(grant))
    return Response(status_code=204)


@router.get("/deliveries", response_model=DeliveryPage, tags=["deliveries"])
async def deliveries(
    request: Request,
    grant: Annotated[Grant, authorize(Action.READ_DELIVERIES)],
    status: Status | None = None,
    subscription_id: QueryId = None,
    request_id: QueryId = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Cursor = None,
) -> DeliveryPage:
    """The delivery log, newest first, by status, subscription and request; `next_cursor`
    leads to the next page."""
    where = DeliveryFilter(status=status, subscription_id=subscription_id, request_id=request_id)
    try:
        items, next_cursor = await handlers.deliveries(_uow(request), where, limit, cursor)
    except InvalidCursorError as exc:
        errors = [{"field": "cursor", "message": str(exc), "type": "cursor"}]
        raise InvalidInputError("the cursor is not valid", errors=errors) from None
    return DeliveryPage(items=[DeliveryOut(**item) for item in items], next_cursor=next_cursor)


@router.get(
    "/deliveries/{delivery_id}",
    response_model=DeliveryOut,
    tags=["deliveries"],
    responses=problems(404),
)
async def delivery(
    delivery_id: PathId,
    request: Request,
    grant: Annotated[Grant, authorize(Action.READ_DELIVERIES)],
) -> DeliveryOut:
    """One delivery; its id is the `webhook-id` the receiver saw."""
    return DeliveryOut(**await handlers.delivery(_uow(request), delivery_id))


@router.post(
    "/deliveries/{delivery_id}/retry",
    status_code=202,
    responses=problems(404, 409),
    response_model=DeliveryOut,
    tags=["deliveries"],
)
async def retry(
    delivery_id: PathId,
    request: Request,
    grant: Annotated[Grant, authorize(Action.RETRY_DELIVERY)],
) -> DeliveryOut:
    """Attempt a failed or dead delivery again now, with a fresh schedule of attempts
    (409 for one delivered, pending, cancelled or in flight)."""
    rescheduled = await handlers.retry(_uow(request), delivery_id)
    request.app.state.worker.wake()
    return DeliveryOut(**rescheduled)


@router.get("/requests/{request_id}/events", tags=["events"])
async def events_of(
    request_id: PathId,
    request: Request,
    grant: Annotated[Grant, authorize(Action.READ_REQUEST_EVENTS)],
) -> dict[str, object]:
    """The lifecycle events notify has taken in for a request. An authority or an office
    gets 404 for a request that is not its own (or not yet known here)."""
    if not grant.everything:
        facts = await handlers.facts_of(_uow(request), request_id)
        if not grant.covers(authority=facts.authority, offices=facts.current_offices):
            raise NotFoundError(f"notify has no events of request {request_id}")
    items = await handlers.inbox_of(_uow(request), request_id)
    return {"request_id": request_id, "items": items}


def _owner(grant: Grant) -> Owner | None:
    # None: the department's view, of every subscription; else the caller's own.
    if grant.everything:
        return None
    if grant.authority is not None:
        return Owner(OwnerKind.AUTHORITY, grant.authority)
    assert grant.office_id is not None, "a grant that is not the department's names a party"
    return Owner(OwnerKind.OFFICE, grant.office_id)


def _refuse_foreign_audience(draft: SubscriptionDraft) -> None:
    """An authority may not subscribe to an office's or the operators' messages, nor an
    office to an authority's, the operators' or another office's."""
    owner = draft.owner
    if owner is None:
        return
    foreign = draft.role is not None or (
        draft.office_id is not None
        if owner.kind is OwnerKind.AUTHORITY
        else draft.authority_name is not None or draft.office_id not in (None, owner.id)
    )
    if foreign:
        raise ForbiddenError(f"a subscription of an {owner.kind} covers only its own requests")


def install(app: FastAPI) -> None:
    """Mount the routes and render notify's refusals as problem+json."""
    app.include_router(router)

    @app.exception_handler(NotifyError)
    async def _refused(request: Request, exc: NotifyError) -> JSONResponse:
        if isinstance(exc, InvalidSubscriptionError):
            errors = [{"field": exc.field, "message": exc.message, "type": exc.kind}]
            return problem_response(
                422,
                InvalidInputError.type_,
                InvalidInputError.title,
                f"{exc.field}: {exc.message}",
                request,
                errors=errors,
            )
        if isinstance(exc, SubscriptionNotFoundError):
            return problem_response(
                404, "subscription-not-found", "Subscription not found", str(exc), request
            )
        if isinstance(exc, DeliveryNotFoundError):
            return problem_response(
                404, "delivery-not-found", "Delivery not found", str(exc), request
            )
        if isinstance(exc, DeliveryNotRetryableError):
            return problem_response(
                409,
                "delivery-not-retryable",
                "Delivery not retryable",
                str(exc),
                request,
                status_of_delivery=exc.status,
            )
        return problem_response(400, "refused", "Refused", str(exc), request)
