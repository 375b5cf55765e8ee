"""The request read model: written by the projector, queried by the API."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.tracking.adapters.tables import requests
from services.tracking.domain.view import RequestView, from_document, to_document
from shared.db import driver


@dataclass(frozen=True)
class RequestFilter:
    """What an operator can narrow the list by (all optional, combined with AND)."""

    status: tuple[str, ...] = ()
    office: str | None = None
    country: str | None = None
    channel: str | None = None
    offence_category: str | None = None
    urgency: str | None = None
    overdue: bool = False
    due_soon: bool = False
    received_from: datetime | None = None
    received_to: datetime | None = None
    text: str | None = None
    # Who asks, when not the department (shared/auth): the requests of this authority and
    # those this office holds an assignment of; None: every request.
    reach: tuple[str | None, str | None] | None = None


def search_text(view: RequestView) -> str:
    """What the full-text filter searches: references and the requesting authority."""
    parts = (view.domestic_reference, view.foreign_reference, view.requesting_authority)
    return " ".join(p for p in parts if p).lower()


def _upsert_all() -> str:
    """The views' rows inserted, or every column of them replaced, all in one statement:
    the rows go as one JSON array, read back into rows of `requests` by PostgreSQL. One
    statement, not one per view, because the tallies behind the statistics are kept by
    statement triggers (migration 0002): a batch of views pays for them once."""
    names = [c.name for c in requests.columns]
    columns = ", ".join(names)
    replaced = ", ".join(f"{name} = EXCLUDED.{name}" for name in names if name != "request_id")
    return (
        f"INSERT INTO requests ({columns}) SELECT {columns} "
        "FROM jsonb_populate_recordset(NULL::requests, CAST(CAST($1 AS text) AS jsonb)) "
        f"ON CONFLICT (request_id) DO UPDATE SET {replaced}"
    )


_UPSERT_ALL = _upsert_all()
# Run for every batch the projector takes in, on the driver's connection (shared.db.driver).
_VIEWS_FOR_UPDATE = (
    "SELECT request_id, view FROM requests WHERE request_id = ANY($1::varchar[]) "
    "ORDER BY request_id FOR UPDATE"
)


class ReadModel:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def view(self, request_id: str) -> RequestView | None:
        query = sa.select(requests.c.view).where(requests.c.request_id == request_id)
        document = await self._session.scalar(query)
        return from_document(document) if document is not None else None

    async def views_for_update(self, request_ids: Iterable[str]) -> dict[str, RequestView]:
        """The views of these requests (those tracking has), locked until the transaction
        ends; locked in the order of their ids, as every writer locks them, so that two
        writers never wait for each other."""
        connection = await driver(self._session)
        rows = await connection.fetch(_VIEWS_FOR_UPDATE, sorted(set(request_ids)))
        return {row["request_id"]: from_document(row["view"]) for row in rows}

    async def save_all(
        self, saved: Sequence[tuple[RequestView, datetime | None, datetime | None]]
    ) -> None:
        """Each view (of a request once at most) with its next due time and due-soon mark."""
        rows = orjson.dumps([row_of(*each) for each in saved])
        await (await driver(self._session)).execute(_UPSERT_ALL, rows.decode())

    async def page(
        self,
        where: RequestFilter,
        *,
        now: datetime,
        descending: bool,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[RequestView]:
        """One page, ordered by (received_at, request_id), after the cursor's key."""
        query = sa.select(requests.c.view).where(*conditions(where, now))
        key = sa.tuple_(requests.c.received_at, requests.c.request_id)
        if after is not None:
            query = query.where(key < sa.tuple_(*after) if descending else key > sa.tuple_(*after))
        order = (requests.c.received_at, requests.c.request_id)
        query = query.order_by(*(c.desc() if descending else c.asc() for c in order)).limit(limit)
        return [from_document(doc) for doc in await self._session.scalars(query)]

    async def all_documents(self) -> dict[str, dict[str, Any]]:
        rows = await self._session.execute(sa.select(requests.c.request_id, requests.c.view))
        return {row.request_id: row.view for row in rows}

    async def replace_all(self, views: list[RequestView]) -> None:
        """Put rebuilt views in place of the live ones; the next deadline of each comes from
        the deadlines table, which a replay does not rebuild."""
        await self._session.execute(sa.delete(requests))
        for start in range(0, len(views), 1000):
            await self._session.execute(
                sa.insert(requests), [row_of(v, None, None) for v in views[start : start + 1000]]
            )
        await self._session.execute(
            sa.text(
                "UPDATE requests r SET next_due = d.due, next_due_soon_at = d.due_soon_at "
                "FROM (SELECT request_id, min(due) AS due, min(due_soon_at) AS due_soon_at "
                "      FROM deadlines WHERE NOT met GROUP BY request_id) d "
                "WHERE d.request_id = r.request_id"
            )
        )


def row_of(
    view: RequestView, next_due: datetime | None, due_soon_at: datetime | None
) -> dict[str, Any]:
    return {
        "request_id": view.request_id,
        "domestic_reference": view.domestic_reference,
        "foreign_reference": view.foreign_reference,
        "requesting_authority": view.requesting_authority,
        "authority": view.authority,
        "status": view.status,
        "country": view.country,
        "channel": view.channel,
        "offence_category": view.offence_category,
        "urgency": view.urgency,
        "offices": list(view.offices),
        "received_at": view.received_at,
        "routed_at": view.routed_at,
        "executed_at": view.executed_at,
        "closed_at": view.closed_at,
        "updated_at": view.updated_at,
        "next_due": next_due,
        "next_due_soon_at": due_soon_at,
        "search": search_text(view),
        "view": to_document(view),
    }


def conditions(where: RequestFilter, now: datetime) -> list[sa.ColumnElement[bool]]:
    c = requests.c
    found: list[sa.ColumnElement[bool]] = []
    if where.status:
        found.append(c.status.in_(where.status))
    for column, value in (
        (c.country, where.country),
        (c.channel, where.channel),
        (c.offence_category, where.offence_category),
        (c.urgency, where.urgency),
    ):
        if value is not None:
            found.append(column == value)
    if where.office is not None:
        found.append(c.offices.contains([where.office]))
    if where.reach is not None:
        found.append(_reach(*where.reach))
    if where.overdue:
        found.append(c.next_due < now)
    if where.due_soon:
        found.append(sa.and_(c.next_due_soon_at <= now, c.next_due >= now))
    if where.received_from is not None:
        found.append(c.received_at >= where.received_from)
    if where.received_to is not None:
        found.append(c.received_at < where.received_to)
    if where.text:
        pattern = (
            "%"
            + where.text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            + "%"
        )
        found.append(c.search.like(pattern))
    return found


def _reach(authority: str | None, office: str | None) -> sa.ColumnElement[bool]:
    c = requests.c
    own = [c.authority == authority] if authority else []
    held = [c.offices.contains([office])] if office else []
    return sa.or_(sa.false(), *own, *held)
