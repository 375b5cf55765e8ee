"""tracking's use cases: project an event; read a request, its timeline, the list, stats."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from services.tracking.adapters import stats
from services.tracking.adapters.archive_store import ArchiveStore
from services.tracking.adapters.deadline_store import DeadlineStore
from services.tracking.adapters.read_model import ReadModel, RequestFilter
from services.tracking.domain.deadline_plan import plan_deadlines
from services.tracking.domain.view import RequestView, project
from shared.auth import Grant
from shared.db import UnitOfWork
from shared.events.catalogue import Payload
from shared.events.envelope import CloudEvent


class RequestNotTrackedError(Exception):
    def __init__(self, request_id: str) -> None:
        super().__init__(f"tracking has no request with id {request_id}")


class InvalidCursorError(ValueError):
    """A page cursor that this service did not hand out."""


async def project_events(
    session: AsyncSession, events: Sequence[tuple[CloudEvent, Payload]]
) -> None:
    """Consumer handler: archive the events, fold each into its request's view, and bring
    those requests' deadlines up to date, all in the consumer's transaction. The work of
    a batch is done table by table (one statement each), not event by event."""
    await ArchiveStore(session).append_all([event for event, _ in events])
    read_model = ReadModel(session)
    views = await read_model.views_for_update(payload.request_id for _, payload in events)
    for event, payload in events:
        views[payload.request_id] = project(views.get(payload.request_id), payload, event.time)
    planned = {}
    saved = []
    for view in views.values():
        planned[view.request_id] = deadlines = plan_deadlines(view)
        # The same rule as a replay applies: the earliest due time and the earliest
        # due-soon mark among the deadlines still open.
        open_deadlines = [d for d in deadlines if not d.satisfied]
        saved.append(
            (
                view,
                min((d.due for d in open_deadlines), default=None),
                min((d.due_soon_at for d in open_deadlines), default=None),
            )
        )
    await DeadlineStore(session).replace_all(planned)
    await read_model.save_all(saved)


async def project_event(session: AsyncSession, event: CloudEvent, payload: Payload) -> None:
    """One event projected as the consumer projects a batch."""
    await project_events(session, [(event, payload)])


async def get_view(uow: UnitOfWork, request_id: str) -> tuple[RequestView, list[dict[str, Any]]]:
    """The request's view and its deadlines."""
    async with uow:
        view = await ReadModel(uow.session).view(request_id)
        deadlines = await DeadlineStore(uow.session).of_request(request_id, datetime.now(UTC))
    if view is None:
        raise RequestNotTrackedError(request_id)
    return view, deadlines


async def require_reach(uow: UnitOfWork, request_id: str, grant: Grant) -> None:
    """Refuse a request the caller does not reach exactly as one tracking does not have."""
    if grant.everything:
        return
    async with uow:
        view = await ReadModel(uow.session).view(request_id)
    if view is None or not grant.covers(authority=view.authority, offices=view.offices):
        raise RequestNotTrackedError(request_id)


async def get_timeline(uow: UnitOfWork, request_id: str) -> list[dict[str, Any]]:
    """Every event of the request with its archive position and hash."""
    async with uow:
        rows = await ArchiveStore(uow.session).of_request(request_id)
    if not rows:
        raise RequestNotTrackedError(request_id)
    timeline = []
    for row in rows:
        envelope = orjson.loads(row["body"])
        timeline.append(
            {
                "position": row["position"],
                "hash": row["hash"].hex(),
                "prev_hash": row["prev_hash"].hex(),
                "event_id": row["event_id"],
                "type": row["type"],
                "source": row["source"],
                "time": row["time"],
                "recorded_at": row["recorded_at"],
                "correlation_id": envelope.get("correlationid"),
                "causation_id": envelope.get("causationid"),
                "data": envelope.get("data", {}),
            }
        )
    return timeline


async def list_views(
    uow: UnitOfWork, where: RequestFilter, *, descending: bool, cursor: str | None, limit: int
) -> tuple[list[RequestView], str | None]:
    """A page of requests and the cursor of the next page (None on the last one)."""
    after = decode_cursor(cursor) if cursor else None
    async with uow:
        views = await ReadModel(uow.session).page(
            where, now=datetime.now(UTC), descending=descending, after=after, limit=limit + 1
        )
    more = len(views) > limit
    views = views[:limit]
    last = views[-1] if views else None
    next_cursor = encode_cursor(last) if more and last is not None else None
    return views, next_cursor


async def get_stats(uow: UnitOfWork) -> dict[str, Any]:
    async with uow:
        return await stats.statistics(uow.session)


def encode_cursor(view: RequestView) -> str:
    key = [view.received_at.isoformat() if view.received_at else None, view.request_id]
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        received_at, request_id = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(received_at), str(request_id)
    except (ValueError, TypeError) as exc:
        raise InvalidCursorError(f"cursor {cursor!r} is not one this service handed out") from exc
