"""The same events projected the way the `eventsourcing` library does it, on the same
PostgreSQL, beside tracking's own live path.

tracking, live: `handlers.project_event` for each event in its own transaction, as the
consumer runs it (archive append, view, deadlines). eventsourcing: an `Application` whose
`Lifecycle` aggregate records each event (one `save` a transaction, as a command would),
and a `Projection` run by its `ProjectionRunner` that folds each request's view with the
same `project` into a view table, tracking row and view in one transaction per event.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.application import Application
from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import Projection, ProjectionRunner
from psycopg.sql import SQL

from bench.load import Generated
from bench.server import eventsourcing_settings, fresh_database
from services.tracking import handlers
from services.tracking.domain.view import from_document, project
from shared.db import UnitOfWork, create_engine, session_factory
from shared.events.catalogue import CATALOGUE, read_payload
from shared.events.envelope import CloudEvent

Row = tuple[str, str, int, float]  # what, by whom, events, seconds


class Lifecycle(Aggregate):
    """One request's events, as the library's aggregate records them."""

    @staticmethod
    def create_id(request_id: str, event_type: str, at: str, data: dict[str, Any]) -> UUID:
        return UUID(request_id)

    @event("Received")
    def __init__(self, request_id: str, event_type: str, at: str, data: dict[str, Any]) -> None:
        self.request_id = request_id

    @event("Happened")
    def happen(self, event_type: str, at: str, data: dict[str, Any]) -> None:
        pass


class Requests(Application[UUID]):
    """Records what happened to each request."""


class PostgresViews(PostgresTrackingRecorder):
    """The request views, beside the library's tracking table."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS es_request_views "
                "(request_id text PRIMARY KEY, status text NOT NULL, view jsonb NOT NULL)"
            )
        )

    def fold(
        self, request_id: str, event_type: str, at: str, data: Any, tracking: Tracking
    ) -> None:
        payload = CATALOGUE[event_type][1].model_validate(data)  # checked, as tracking checks
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                "SELECT view FROM es_request_views WHERE request_id = %s FOR UPDATE", (request_id,)
            )
            found = cursor.fetchone()
            before = from_document(found["view"]) if found else None
            view = project(before, payload, datetime.fromisoformat(at))
            cursor.execute(
                "INSERT INTO es_request_views VALUES (%s, %s, %s::jsonb) ON CONFLICT (request_id) "
                "DO UPDATE SET status = excluded.status, view = excluded.view",
                (request_id, view.status, orjson.dumps(view).decode()),
            )
            self._insert_tracking(cursor, tracking)


class Views(Projection[PostgresViews]):
    name = "requestviews"

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.fold(
            str(domain_event.originator_id),
            domain_event.event_type,
            domain_event.at,
            domain_event.data,
            tracking,
        )


async def run(server: str, events: list[Generated]) -> list[Row]:
    """Events per second of each path over the same `events`."""
    # Creating a database runs its migrations, which run their own event loop: in a thread.
    ours = await _tracking_live(
        await asyncio.to_thread(fresh_database, server, "mla_tracking_live"), events
    )
    one_by_one, in_batches = [
        eventsourcing_settings(await asyncio.to_thread(fresh_database, server, name))
        for name in ("mla_es", "mla_es_batched")
    ]
    return [*ours, *_eventsourcing(one_by_one, events), _eventsourcing_batched(in_batches, events)]


async def _tracking_live(url: str, events: list[Generated]) -> list[Row]:
    engine = create_engine(url, pool_size=2)
    sessions = session_factory(engine)
    try:
        started = time.perf_counter()
        for generated in events:
            checked = CloudEvent.from_bytes(generated.body)
            async with UnitOfWork(sessions) as uow:
                await handlers.project_event(uow.session, checked, read_payload(checked))
                await uow.commit()
        seconds = time.perf_counter() - started
    finally:
        await engine.dispose()
    what = "append + project, one event a transaction (archive, view, deadlines)"
    return [(what, "tracking (project_event)", len(events), seconds)]


def _record(aggregates: dict[str, Lifecycle], generated: Generated) -> Lifecycle:
    document = CloudEvent.from_bytes(generated.body)
    at = document.time.isoformat()
    aggregate = aggregates.get(document.subject)
    if aggregate is None:
        aggregate = Lifecycle(document.subject, document.type, at, document.data)
        aggregates[document.subject] = aggregate
    else:
        aggregate.happen(document.type, at, document.data)
    return aggregate


def _eventsourcing_batched(env: dict[str, str], events: list[Generated], batch: int = 1000) -> Row:
    """The library's bulk append: the aggregates changed by `batch` events saved together."""
    app = Requests(env=env)
    aggregates: dict[str, Lifecycle] = {}
    started = time.perf_counter()
    for start in range(0, len(events), batch):
        changed = {
            id(a): a for a in (_record(aggregates, g) for g in events[start : start + batch])
        }
        app.save(*changed.values())
    appended = time.perf_counter() - started
    app.close()
    what = f"append, {batch:,} events a transaction"
    return (what, "eventsourcing (Application.save)", len(events), appended)


def _eventsourcing(env: dict[str, str], events: list[Generated]) -> list[Row]:
    app = Requests(env=env)
    aggregates: dict[str, Lifecycle] = {}
    started = time.perf_counter()
    for generated in events:
        app.save(_record(aggregates, generated))
    appended = time.perf_counter() - started
    last = app.recorder.max_notification_id()
    started = time.perf_counter()
    with ProjectionRunner(
        application_class=Requests, projection_class=Views, view_class=PostgresViews, env=env
    ) as runner:
        runner.wait(last, timeout=3600)
    projected = time.perf_counter() - started
    app.close()
    return [
        ("append, one event a transaction", "eventsourcing (Application.save)", len(events),
         appended),
        ("project, one event a transaction (view)", "eventsourcing (ProjectionRunner)",
         len(events), projected),
    ]  # fmt: skip
