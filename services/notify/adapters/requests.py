"""The facts notify keeps per request (see `domain.request_facts`)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.notify.adapters.tables import request_facts
from services.notify.domain.request_facts import RequestFacts


class RequestFactsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, request_id: str) -> RequestFacts:
        """The request's facts; empty ones for a request notify has not heard of yet."""
        row = (
            await self._session.execute(
                sa.select(request_facts).where(request_facts.c.request_id == request_id)
            )
        ).first()
        if row is None:
            return RequestFacts(request_id=request_id)
        return RequestFacts(
            request_id=request_id,
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

    async def save(self, facts: RequestFacts) -> None:
        values = {
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
        await self._session.execute(
            insert(request_facts)
            .values(request_id=facts.request_id, **values)
            .on_conflict_do_update(
                index_elements=[request_facts.c.request_id],
                set_={**values, "updated_at": sa.func.now()},
            )
        )
