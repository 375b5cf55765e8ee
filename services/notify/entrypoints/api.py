"""notify's HTTP API (subscriptions and deliveries come with its real work)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request

from services.notify import handlers

router = APIRouter(prefix="/v1", tags=["notify"])


@router.get("/requests/{request_id}/events")
async def events_of(request_id: str, request: Request) -> dict[str, object]:
    """The lifecycle events notify has taken in for a request."""
    items = await handlers.inbox_of(request.app.state.runtime.unit_of_work(), request_id)
    return {"request_id": request_id, "items": items}


def install(app: FastAPI) -> None:
    app.include_router(router)
