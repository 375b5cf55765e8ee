"""Loading a generated caseload into tracking's database in bulk, as the projector would
have left it after consuming every event one by one: the hash-chained archive, each
request's view (folded with every event checked, as the consumer checks it) with its next
deadline, and the deadlines. Chains and views are computed in Python and COPYed.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import orjson

from bench.caseload import Caseload
from services.tracking.adapters.rebuild import (
    DEADLINE_COLUMNS,
    REQUEST_COLUMNS,
    deadline_records,
    request_record,
)
from services.tracking.domain.archive import GENESIS, Entry, canonical_bytes, chain_hash
from services.tracking.domain.deadline_plan import plan_deadlines
from services.tracking.domain.history import Fold
from services.tracking.domain.view import RequestView
from shared.events.catalogue import read_payload
from shared.events.envelope import CloudEvent

ARCHIVE_COLUMNS = (
    "position",
    "event_id",
    "source",
    "type",
    "subject",
    "time",
    "recorded_at",
    "body",
    "prev_hash",
    "hash",
)
COPY_BATCH = 20_000


@dataclass(frozen=True, slots=True)
class Generated:
    """One event as archived: its columns and canonical body."""

    time: datetime
    event_id: str
    source: str
    type: str
    subject: str
    body: bytes


def generate(caseload: Caseload, events: int) -> list[Generated]:
    """`events` events of whole requests received over two years, in the order tracking
    consumed them. Whole requests are generated until there are enough events, randomly
    chosen ones are left out until one more would leave too few, and the few events still
    over are the very latest (so every period keeps its share of requests)."""
    histories: list[list[Generated]] = []
    total = 0
    while total < events:
        for history in caseload.requests(max(1, (events - total) // 4)):
            histories.append([_generated(at, envelope) for at, envelope in history])
            total += len(histories[-1])
    order = list(range(len(histories)))
    random.Random(11).shuffle(order)
    for index in order:
        if total - len(histories[index]) >= events:
            total -= len(histories[index])
            histories[index] = []
    generated = sorted((e for history in histories for e in history), key=lambda e: e.time)
    return generated[:events]


def _generated(at: datetime, envelope: dict[str, Any]) -> Generated:
    body = canonical_bytes(envelope)
    return Generated(at, envelope["id"], envelope["source"], envelope["type"],
                     envelope["subject"], body)  # fmt: skip


def check_sample(events: list[Generated], size: int = 3000) -> None:
    """Every sampled event must be one the consumer accepts, unchanged by canonicalisation."""
    for event in random.Random(7).sample(events, min(size, len(events))):
        checked = CloudEvent.from_bytes(event.body)
        payload = read_payload(checked)
        again = checked.model_dump(mode="json", exclude_none=True)
        again["data"] = payload.model_dump(mode="json")
        if canonical_bytes(again) != event.body:
            raise AssertionError(f"generated event {event.event_id} is not what intake writes")


def chain(events: list[Generated]) -> list[Entry]:
    """The archive's entries: positions from 1, each hash over the one before."""
    entries, head = [], GENESIS
    for position, event in enumerate(events, 1):
        digest = chain_hash(head, event.body)
        entries.append(Entry(position, head, digest, event.body))
        head = digest
    return entries


async def copy_archive(
    connection: asyncpg.Connection, events: list[Generated], entries: list[Entry]
) -> None:
    lag = timedelta(milliseconds=40)  # consumed a moment after it was published
    records = (
        (
            e.position,
            g.event_id,
            g.source,
            g.type,
            g.subject,
            g.time,
            g.time + lag,
            e.body,
            e.prev_hash,
            e.hash,
        )
        for g, e in zip(events, entries, strict=True)
    )
    await _copy(connection, "archive", records, ARCHIVE_COLUMNS)


def fold_checked(entries: list[Entry]) -> dict[str, RequestView]:
    """Every request's view with every event checked, as the live projector folds them."""
    fold = Fold()
    fold.feed(entries)
    if fold.unreadable:
        raise AssertionError(f"unreadable generated events: {fold.unreadable[:3]}")
    return fold.views


async def copy_read_model(connection: asyncpg.Connection, views: Iterable[RequestView]) -> None:
    """Each view's row with its next deadline, and its deadlines, as the projector leaves
    them."""
    request_rows, deadline_rows = [], []
    for view in views:
        planned = plan_deadlines(view)
        request_rows.append(request_record(view, planned))
        deadline_rows.extend(deadline_records(planned))
    await _copy(connection, "requests", iter(request_rows), REQUEST_COLUMNS)
    await _copy(connection, "deadlines", iter(deadline_rows), DEADLINE_COLUMNS)


async def request_rows(connection: asyncpg.Connection) -> list[tuple[Any, ...]]:
    """The request rows as `request_record` gives them."""
    columns = ", ".join("view::text" if c == "view" else c for c in REQUEST_COLUMNS)
    return [tuple(row) for row in await connection.fetch(f"SELECT {columns} FROM requests")]


async def copy_more_requests(
    connection: asyncpg.Connection, rows: list[tuple[Any, ...]], count: int
) -> None:
    """`count` more request rows, copies of `rows` (cycling through them) under new ids and
    references: the read model at a size the events did not reach. A copy keeps its
    original's dates, so its next deadline is the original's."""
    copies = (_copy_of(rows[i % len(rows)], i) for i in range(count))
    await _copy(connection, "requests", copies, REQUEST_COLUMNS)


_ID, _REFERENCE, _SEARCH, _VIEW = (
    REQUEST_COLUMNS.index(c) for c in ("request_id", "domestic_reference", "search", "view")
)


def _copy_of(row: tuple[Any, ...], index: int) -> tuple[Any, ...]:
    copy = list(row)
    request_id = f"{row[_ID][:-12]}{index:012x}"
    old = row[_REFERENCE] or "MPP-2026-000000"
    reference = f"{old.rsplit('-', 1)[0]}-C{index:07d}"
    document = orjson.loads(row[_VIEW])
    document["request_id"], document["domestic_reference"] = request_id, reference
    copy[_ID], copy[_REFERENCE], copy[_VIEW] = (
        request_id,
        reference,
        orjson.dumps(document).decode(),
    )
    copy[_SEARCH] = row[_SEARCH].replace(old.lower(), reference.lower(), 1)
    return tuple(copy)


async def _copy(
    connection: asyncpg.Connection,
    table: str,
    records: Iterator[tuple[Any, ...]],
    columns: tuple[str, ...],
) -> None:
    batch: list[tuple[Any, ...]] = []
    for record in records:
        batch.append(record)
        if len(batch) == COPY_BATCH:
            await connection.copy_records_to_table(table, records=batch, columns=list(columns))
            batch = []
    if batch:
        await connection.copy_records_to_table(table, records=batch, columns=list(columns))


def timed(started: float) -> float:
    return time.perf_counter() - started
