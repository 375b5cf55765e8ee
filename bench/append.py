"""Appending events: the event store intake and routing write through
(shared/eventstore.py) next to the `eventsourcing` library's PostgreSQL recorder, on the same
PostgreSQL, with the same events.

Like with like: both start from the same CloudEvents of realistic lifecycles and append
each to its request's stream at the next version, refusing a version that exists (our
`(stream_id, version)` unique key; the library's `(originator_id, originator_version)` primary
key). The library is given each event serialized (its mapper's work, done here with the
event's own `to_bytes`) and its recorder's `insert_events`; ours takes the CloudEvent, as the
services call it, and also writes the outbox row the relay publishes from (the library's
counterpart is its notification id, which its recorder assigns under a table lock).

Three ways: one event a transaction by one writer (a command after another); one event a
transaction by several writers at once on different requests (a service under load, the
case the services live in); and a thousand events a transaction (a bulk import).
"""

from __future__ import annotations

import asyncio
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from bench.load import Generated
from bench.server import empty_database, eventsourcing_settings, over_tcp
from devstack.provision import migrate
from devstack.services import ServiceSpec
from services.intake.adapters.tables import events as events_table
from services.intake.adapters.tables import outbox as outbox_table
from shared.db import UnitOfWork, create_engine, session_factory
from shared.events.envelope import CloudEvent
from shared.eventstore import EventStore

Row = tuple[str, str, int, float]  # how, by whom, events, seconds
Item = tuple[str, int, CloudEvent]  # stream, version (from 1), event


def versioned(generated: Sequence[Generated]) -> list[Item]:
    """Each event with its stream and the version it takes there."""
    versions: dict[str, int] = {}
    items = []
    for one in generated:
        event = CloudEvent.from_bytes(one.body)
        versions[event.subject] = versions.get(event.subject, 0) + 1
        items.append((event.subject, versions[event.subject], event))
    return items


def _shares(items: list[Item], writers: int) -> list[list[Item]]:
    """The events split among writers by stream: one stream has one writer, in order."""
    shares: list[list[Item]] = [[] for _ in range(writers)]
    for item in items:
        shares[zlib.crc32(item[0].encode()) % writers].append(item)
    return shares


async def ours(url: str, items: list[Item], *, writers: int, batch: int = 1) -> float:
    """Seconds to append every item through `EventStore.append`."""
    engine = create_engine(url, pool_size=writers)
    sessions = session_factory(engine)
    store = EventStore(events_table, outbox_table)

    async def write(share: list[Item]) -> None:
        for start in range(0, len(share), batch):
            async with UnitOfWork(sessions) as uow:
                for stream, version, event in share[start : start + batch]:
                    await store.append(uow.session, stream, version - 1, [event])
                await uow.commit()

    try:
        async with UnitOfWork(sessions) as uow:  # connections made before the clock starts
            await store.append(uow.session, "warm-up", 0, [items[0][2]])
        started = time.perf_counter()
        await asyncio.gather(*(write(share) for share in _shares(items, writers)))
        return time.perf_counter() - started
    finally:
        await engine.dispose()


def library(env: dict[str, str], items: list[Item], *, writers: int, batch: int = 1) -> float:
    """Seconds to append every item through the library's `insert_events`."""
    from eventsourcing.application import Application
    from eventsourcing.persistence import StoredEvent

    app: Application[UUID] = Application(
        env={**env, "POSTGRES_POOL_SIZE": str(writers), "POSTGRES_MAX_OVERFLOW": "0"}
    )
    recorder: Any = app.recorder
    topic = "mla.request"

    def stored(item: Item) -> Any:
        stream, version, event = item
        return StoredEvent(UUID(stream), version, topic, event.to_bytes())

    def write(share: list[Item]) -> None:
        for start in range(0, len(share), batch):
            recorder.insert_events([stored(item) for item in share[start : start + batch]])

    try:
        recorder.insert_events([StoredEvent(UUID(int=0), 1, topic, b"{}")])  # warm-up
        started = time.perf_counter()
        _in_threads(write, _shares(items, writers))
        return time.perf_counter() - started
    finally:
        app.close()


def _in_threads(work: Callable[[list[Item]], None], shares: list[list[Item]]) -> None:
    errors: list[BaseException] = []

    def run(share: list[Item]) -> None:
        try:
            work(share)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def compare(server_url: str, generated: Sequence[Generated], writers: int) -> list[Row]:
    """Events per second of both, each way, each on a fresh database."""
    items = versioned(generated)
    # Both over TCP: the library's thousand-event transactions stall for good on the
    # embedded server's Unix socket (psycopg sends the batch while the server's answers
    # fill the socket the other way), and both sides go the same way in.
    server_url = over_tcp(server_url)
    rows: list[Row] = []
    ways = [
        ("one event a transaction, one writer", 1, 1),
        (f"one event a transaction, {writers} writers", writers, 1),
        ("1,000 events a transaction", 1, 1000),
    ]
    for number, (how, count, batch) in enumerate(ways):
        url = empty_database(server_url, f"mla_bench_append_{number}")
        migrate(url, ServiceSpec("intake").migrations)
        seconds = asyncio.run(ours(url, items, writers=count, batch=batch))
        rows.append((how, "ours (EventStore.append + outbox)", len(items), seconds))
        url = empty_database(server_url, f"mla_bench_es_{number}")
        seconds = library(eventsourcing_settings(url), items, writers=count, batch=batch)
        rows.append((how, "eventsourcing (recorder.insert_events)", len(items), seconds))
    return rows
