"""The department's overview: what waits, what is late, who holds the work, and whether the
archive's last signed checkpoint still holds. The dashboard's first page reads it (with
`GET /v1/stats` for the charts)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request

from services.tracking.adapters.overview import Overview
from services.tracking.domain.archive import Checkpoint, signature_valid
from shared.auth import Action, Grant, authorize
from shared.db import UnitOfWork

router = APIRouter(prefix="/v1", tags=["tracking"])


@router.get("/overview")
async def overview(
    request: Request, grant: Annotated[Grant, authorize(Action.WATCH_REQUESTS)]
) -> dict[str, Any]:
    """Requests waiting for routing, due soon and overdue (counted as the list's filters
    count them), the overdue ones by name, the requests each office holds in execution,
    and the archive's head with its last checkpoint, `verified` when its signature checks
    and the chain still has the hash it signed (the whole chain: `GET /v1/audit/verify`)."""
    now = datetime.now(UTC)
    uow: UnitOfWork = request.app.state.runtime.unit_of_work()
    async with uow:
        found = Overview(uow.session)
        attention = await found.attention(now)
        overdue = await found.overdue(now)
        workload = await found.workload(now)
        head = await found.archive_head()
        last = await found.last_checkpoint()
    public_key = request.app.state.signing_key.public_key()
    return {
        "as_of": now.isoformat(),
        **attention,
        "overdue_requests": overdue,
        "workload": workload,
        "archive": {
            "head_position": head,
            "last_checkpoint": _checkpoint(last, public_key) if last else None,
        },
    }


def _checkpoint(last: tuple[Checkpoint, bytes | None], public_key: Any) -> dict[str, Any]:
    checkpoint, hash_now = last
    return {
        "position": checkpoint.position,
        "signed_at": checkpoint.signed_at,
        "key_id": checkpoint.key_id,
        "verified": hash_now == checkpoint.head_hash and signature_valid(checkpoint, public_key),
    }
