"""Deadlines across requests, for operators watching what is due and overdue."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from services.tracking.adapters.deadline_store import DeadlineStore
from shared.auth import Action, Grant, authorize
from shared.db import UnitOfWork

router = APIRouter(prefix="/v1", tags=["deadlines"])


@router.get("/deadlines")
async def deadlines(
    request: Request,
    grant: Annotated[Grant, authorize(Action.READ_DEADLINES)],
    state: Literal["on_track", "due_soon", "overdue", "met"] | None = None,
    office: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Deadlines, soonest first, each with its basis (rule and article) and state. An
    executing office sees those of the requests it holds an assignment of."""
    if not grant.everything:
        if office not in (None, grant.office_id):
            return {"items": []}
        office = grant.office_id
    uow: UnitOfWork = request.app.state.runtime.unit_of_work()
    async with uow:
        items = await DeadlineStore(uow.session).listing(
            state=state, office=office, now=datetime.now(UTC), limit=limit
        )
    return {"items": items}
