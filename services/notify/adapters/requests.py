"""The facts notify keeps per request (see `domain.request_facts`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.notify.adapters.tables import request_facts
from services.notify.domain.request_facts import RequestFacts
from shared.db import any_of


def _upsert() -> Any:
    """The facts' row inserted or replaced: built once, its values given as parameters."""
    statement = insert(request_facts)
    replaced = [c.name for c in request_facts.columns if c.name not in ("request_id", "updated_at")]
    return statement.on_conflict_do_update(
        index_elements=[request_facts.c.request_id],
        set_={**{name: statement.excluded[name] for name in replaced}, "updated_at": sa.func.now()},
    )


_UPSERT = _upsert()


class RequestFactsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, request_id: str) -> RequestFacts:
        """The request's facts; empty ones for a request notify has not heard of yet."""
        return (await self.get_all([request_id]))[request_id]

    async def get_all(self, request_ids: Iterable[str]) -> dict[str, RequestFacts]:
        """The facts of each of these requests (empty ones for those not heard of yet)."""
        wanted = sorted(set(request_ids))
        rows = await self._session.execute(
            sa.select(request_facts).where(request_facts.c.request_id == any_of(wanted))
        )
        found = {row.request_id: _facts(row) for row in rows}
        return {id_: found.get(id_) or RequestFacts(request_id=id_) for id_ in wanted}

    async def save_all(self, facts: Sequence[RequestFacts]) -> None:
        await self._session.execute(_UPSERT, [_row(each) for each in facts])


def _facts(row: Any) -> RequestFacts:
    return RequestFacts(
        request_id=row.request_id,
        domestic_reference=row.domestic_reference,
        authority_name=row.authority_name,
        authority_country=row.authority_country,
        authority_reference=row.authority_reference,
        authority=row.authority,
        status=row.status,
        office_names=dict(row.office_names),
        current_offices=list(row.current_offices),
        assignment_ids=list(row.assignment_ids),
    )


def _row(facts: RequestFacts) -> dict[str, Any]:
    return {
        "request_id": facts.request_id,
        "domestic_reference": facts.domestic_reference,
        "authority_name": facts.authority_name,
        "authority_country": facts.authority_country,
        "authority_reference": facts.authority_reference,
        "authority": facts.authority,
        "status": facts.status,
        "office_names": facts.office_names,
        "current_offices": facts.current_offices,
        "assignment_ids": facts.assignment_ids,
    }
