"""tracking's use cases: project an event; read a request, its timeline, the list."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.tracking.adapters.read_model import ReadModel
from services.tracking.domain.view import RequestView, project
from shared.db import UnitOfWork
from shared.events.catalogue import Payload
from shared.events.envelope import CloudEvent


class RequestNotTrackedError(Exception):
    def __init__(self, request_id: str) -> None:
        super().__init__(f"tracking has no request with id {request_id}")


async def project_event(session: AsyncSession, event: CloudEvent, payload: Payload) -> None:
    """Consumer handler: fold the event into the request's view and its timeline."""
    read_model = ReadModel(session)
    view = await read_model.view(payload.request_id, for_update=True)
    await read_model.save(project(view, payload, event.time))
    await read_model.append_timeline(event)


async def get_view(uow: UnitOfWork, request_id: str) -> RequestView:
    async with uow:
        view = await ReadModel(uow.session).view(request_id)
    if view is None:
        raise RequestNotTrackedError(request_id)
    return view


async def get_timeline(uow: UnitOfWork, request_id: str) -> list[dict[str, Any]]:
    async with uow:
        entries = await ReadModel(uow.session).timeline(request_id)
    if not entries:
        raise RequestNotTrackedError(request_id)
    return entries


async def list_views(uow: UnitOfWork, *, status: str | None, limit: int) -> list[RequestView]:
    async with uow:
        return await ReadModel(uow.session).list(status=status, limit=limit)
