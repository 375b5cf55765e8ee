"""The facts notify keeps per request (see `domain.request_facts`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from services.notify.adapters.tables import request_facts
from services.notify.domain.request_facts import RequestFacts
from shared.db import driver

_COLUMNS = [c.name for c in request_facts.columns if c.name != "updated_at"]
# Run for every batch of events notify takes in, on the driver's connection
# (shared.db.driver): the facts read in one statement, and written in one, the rows as one
# JSON array read back into rows of `request_facts` by PostgreSQL.
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM request_facts WHERE request_id = ANY($1::varchar[])"
_UPSERT = (
    f"INSERT INTO request_facts ({', '.join(_COLUMNS)}) SELECT {', '.join(_COLUMNS)} "
    "FROM jsonb_populate_recordset(NULL::request_facts, CAST(CAST($1 AS text) AS jsonb)) "
    "ON CONFLICT (request_id) DO UPDATE SET "
    + ", ".join(f"{name} = EXCLUDED.{name}" for name in _COLUMNS if name != "request_id")
    + ", updated_at = now()"
)


class RequestFactsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, request_id: str) -> RequestFacts:
        """The request's facts; empty ones for a request notify has not heard of yet."""
        return (await self.get_all([request_id]))[request_id]

    async def get_all(self, request_ids: Iterable[str]) -> dict[str, RequestFacts]:
        """The facts of each of these requests (empty ones for those not heard of yet)."""
        wanted = sorted(set(request_ids))
        rows = await (await driver(self._session)).fetch(_SELECT, wanted)
        found = {row["request_id"]: _facts(row) for row in rows}
        return {id_: found.get(id_) or RequestFacts(request_id=id_) for id_ in wanted}

    async def save_all(self, facts: Sequence[RequestFacts]) -> None:
        rows = orjson.dumps([_row(each) for each in facts]).decode()
        await (await driver(self._session)).execute(_UPSERT, rows)


def _facts(row: Mapping[str, Any]) -> RequestFacts:
    return RequestFacts(
        request_id=row["request_id"],
        domestic_reference=row["domestic_reference"],
        authority_name=row["authority_name"],
        authority_country=row["authority_country"],
        authority_reference=row["authority_reference"],
        authority=row["authority"],
        status=row["status"],
        office_names=dict(row["office_names"]),
        current_offices=list(row["current_offices"]),
        assignment_ids=list(row["assignment_ids"]),
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
