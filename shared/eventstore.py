"""The event store of an event-sourced service, and its transactional outbox.

Each aggregate is a stream of events in `events`, unique on `(stream_id, version)`: two
writers that loaded the same version cannot both append, the second gets `ConcurrencyError`
instead of overwriting. Events meant for other services are written, in the same
transaction, to `outbox`, which the relay empties onto the topic in order.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

import asyncpg
import sqlalchemy as sa
import structlog
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import driver, is_conflict
from shared.events.envelope import CloudEvent
from shared.eventstore_sql import claiming, statements
from shared.kafka import MAX_EVENT_BYTES

log = structlog.get_logger("eventstore")

T = TypeVar("T")


class ConcurrencyError(Exception):
    """Another command changed the stream since it was loaded: reload and decide again."""

    def __init__(self, stream_id: str, expected_version: int) -> None:
        super().__init__(
            f"stream {stream_id} moved past version {expected_version} while this command ran"
        )
        self.stream_id = stream_id
        self.expected_version = expected_version


async def decided_afresh(command: Callable[[], Awaitable[T]], *, attempts: int = 3) -> T:
    """Run a command (load its stream, decide, append, commit) and, when another write to
    the stream came first, run it again on the stream as it now is, up to `attempts` times.
    The other write is most often the service's own consumer recording what another service
    reported meanwhile (routing's `routed` just as the requester withdraws): the command's
    rules are checked again on the state it now meets, as a caller answered 409 would do,
    and a command the new state forbids is refused with that state. So is a command whose
    transaction PostgreSQL aborted to break a deadlock (or that failed to serialize): it
    lost to a concurrent one, as an overtaken command does. The error of the last attempt
    stands."""
    for attempt in range(1, attempts):
        try:
            return await command()
        except Exception as exc:
            if not lost_to_a_concurrent_write(exc):
                raise
            log.info(
                "command.decided_again",
                stream_id=getattr(exc, "stream_id", None),
                lost_to=type(exc).__name__,
                attempt=attempt,
            )
    return await command()


def lost_to_a_concurrent_write(exc: BaseException) -> bool:
    """Whether a write failed only because a concurrent one came first: another append took
    its version (`ConcurrencyError`), or PostgreSQL aborted its transaction to break a
    deadlock or for a serialization failure. Done again, it meets the state the other left."""
    return isinstance(exc, ConcurrencyError) or is_conflict(exc)


class EventTooLargeError(Exception):
    """An event to publish is larger than the topic carries: stored, it could never be sent,
    and its outbox would hold every later event behind it. Nothing of the append is kept."""

    def __init__(self, event: CloudEvent, size: int) -> None:
        super().__init__(
            f"event {event.type} of {event.subject} takes {size:,} bytes; the topic carries "
            f"at most {MAX_EVENT_BYTES:,}"
        )
        self.size = size


def event_store_tables(metadata: sa.MetaData) -> tuple[sa.Table, sa.Table]:
    """Declare `events` and `outbox` on a service's metadata (its migrations create them)."""
    events = sa.Table(
        "events",
        metadata,
        sa.Column("position", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("stream_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False, unique=True),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("envelope", JSONB, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
    )
    return events, outbox_table(metadata)


def outbox_table(metadata: sa.MetaData) -> sa.Table:
    """Declare `outbox` alone, for a service that publishes without being event-sourced."""
    return sa.Table(
        "outbox",
        metadata,
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )


@dataclass(frozen=True)
class StoredEvent:
    position: int
    stream_id: str
    version: int
    event: CloudEvent
    recorded_at: datetime


class EventStore:
    """Loads and appends streams; appending to the outbox in the same transaction."""

    def __init__(self, events: sa.Table, outbox: sa.Table) -> None:
        self._events = events
        self._outbox = outbox
        self._statements = statements(events, outbox)

    async def load(self, session: AsyncSession, stream_id: str) -> list[StoredEvent]:
        """Every event of a stream, oldest first."""
        return (await self.load_many(session, [stream_id])).get(stream_id, [])

    async def load_many(
        self, session: AsyncSession, stream_ids: Iterable[str]
    ) -> dict[str, list[StoredEvent]]:
        """Every event of each of the streams, oldest first, in one statement (a consumer's
        batch); a stream with no event is left out."""
        rows = await (await driver(session)).fetch(
            self._statements.load_many, list(dict.fromkeys(stream_ids))
        )
        found: dict[str, list[StoredEvent]] = {}
        for row in rows:
            found.setdefault(row["stream_id"], []).append(_stored(row["stream_id"], row))
        return found

    async def append(
        self,
        session: AsyncSession,
        stream_id: str,
        expected_version: int,
        events: Sequence[CloudEvent],
        *,
        publish: bool | Callable[[CloudEvent], bool] = True,
    ) -> int:
        """Append after `expected_version`; returns the new version of the stream.

        `publish` says which events also go to the outbox (all, none, or those a predicate
        picks: a service stores facts it observed from others without republishing them).
        Raises `ConcurrencyError` when another transaction appended first.
        """
        await self.append_many(
            session, [StreamAppend(stream_id, expected_version, events)], publish=publish
        )
        return expected_version + len(events)

    async def append_alone(
        self,
        connection: asyncpg.Connection,
        appends: Sequence[StreamAppend],
        *,
        claims: sa.Table | None = None,
        publish: bool | Callable[[CloudEvent], bool] = True,
    ) -> set[str]:
        """Appends to one or more streams that are together a transaction of their own: one
        statement, on a connection outside any transaction (`shared.db.autocommit_driver`),
        with no BEGIN and COMMIT around it. An append with a `claim` has that row inserted in
        `claims` first, in the same statement, and its events are appended only when it was
        (its unique key not taken before, nor by an earlier append of the same call).
        Returns the streams appended to. Raises `ConcurrencyError` as `append` does, for the
        whole call: nothing of it is stored then."""
        arguments, _ = _many_arguments(appends, publish)
        columns = _claim_columns(appends, claims)
        statement = claiming(self._statements.append_many, claims, columns)
        if columns:
            claimants = [each for each in appends if each.claim is not None]
            arguments.append([each.stream_id for each in claimants])
            arguments += [[each.claim[c] for each in claimants] for c in columns]  # type: ignore[index]
        with _version_conflict({each.stream_id: each.expected_version for each in appends}):
            rows = await connection.fetch(statement, *arguments)
        return {row[0] for row in rows}

    async def append_many(
        self,
        session: AsyncSession,
        appends: Sequence[StreamAppend],
        *,
        publish: bool | Callable[[CloudEvent], bool] = True,
    ) -> None:
        """`append` to many streams in the caller's transaction, in one statement (a
        consumer's batch); `ConcurrencyError` as `append` raises it, for them all."""
        arguments, outgoing = _many_arguments(appends, publish)
        if not arguments[0]:
            return
        if outgoing:
            _wrote_outbox(session)
        statement = claiming(self._statements.append_many, None, ())
        with _version_conflict({each.stream_id: each.expected_version for each in appends}):
            await (await driver(session)).execute(statement, *arguments)


def _stored(stream_id: str, row: Mapping[str, Any]) -> StoredEvent:
    return StoredEvent(
        position=row["position"],
        stream_id=stream_id,
        version=row["version"],
        event=CloudEvent.model_validate(row["envelope"]),
        recorded_at=row["recorded_at"],
    )


def _many_arguments(
    appends: Sequence[StreamAppend], publish: bool | Callable[[CloudEvent], bool]
) -> tuple[list[list[object]], bool]:
    """The nine array parameters of an append to many streams (each event's stream first),
    and whether any event goes out. Always the statement with the outbox (its arrays empty
    when nothing is published): one text to prepare, whatever the events."""
    arguments: list[list[object]] = [[] for _ in range(9)]
    outgoing = False
    for each in appends:
        one, out = _arguments(each.stream_id, each.expected_version, each.events, publish)
        outgoing = outgoing or out
        arguments[0] += [each.stream_id] * len(each.events)
        for column, values in zip(arguments[1:], one[1:], strict=True):
            column.extend(cast(list[object], values))
    return arguments, outgoing


@dataclass(frozen=True)
class StreamAppend:
    """Events for one stream, after the version its writer loaded; with `claim`, a row that
    must be inserted first (an idempotency key, say) for the events to be appended."""

    stream_id: str
    expected_version: int
    events: Sequence[CloudEvent]
    claim: Mapping[str, object] | None = None


def _claim_columns(appends: Sequence[StreamAppend], claims: sa.Table | None) -> tuple[str, ...]:
    given = {tuple(each.claim) for each in appends if each.claim is not None}
    if not given:
        return ()
    if claims is None or len(given) > 1:
        raise ValueError("claims need their table, and the same columns in every claim")
    return given.pop()


def _arguments(
    stream_id: str,
    expected_version: int,
    events: Sequence[CloudEvent],
    publish: bool | Callable[[CloudEvent], bool],
) -> tuple[list[object], bool]:
    """The nine parameters of an append with its outbox rows (the first five without), and
    whether any event goes out."""
    # Each envelope serialized once: stored as it is published.
    encoded = [(event, event.to_bytes()) for event in events]
    outgoing = (
        [(e, body) for e, body in encoded if publish(e)]
        if callable(publish)
        else (encoded if publish else [])
    )
    arguments: list[object] = [
        stream_id,
        list(range(expected_version + 1, expected_version + len(events) + 1)),
        [event.id for event in events],
        [event.type for event in events],
        [body.decode() for _, body in encoded],
    ]
    for event, body in outgoing:
        if len(body) > MAX_EVENT_BYTES:
            raise EventTooLargeError(event, len(body))
    arguments += [
        [e.id for e, _ in outgoing],
        [e.subject for e, _ in outgoing],
        [e.type for e, _ in outgoing],
        [body for _, body in outgoing],
    ]
    return arguments, bool(outgoing)


@contextlib.contextmanager
def _version_conflict(expected: Mapping[str, int]) -> Iterator[None]:
    """A version taken as `ConcurrencyError`, naming the stream the server names (of those
    appended to, with the version its writer expected)."""
    try:
        yield
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name != "uq_events_stream_version":
            raise
        named = re.search(r"=\((.+), \d+\)", getattr(exc, "detail", None) or "")
        stream_id = named.group(1) if named and named.group(1) in expected else next(iter(expected))
        raise ConcurrencyError(stream_id, expected[stream_id]) from exc


# Set on a session whose transaction put events on the outbox: a consumer wakes the relay
# after committing only such a transaction (a relay's look at an empty outbox is a
# transaction of four round trips, after every event tracking projects, for nothing).
_OUTBOX_WRITTEN = "outbox_written"


def wrote_outbox(session: AsyncSession) -> bool:
    """Whether this session's work put events on the outbox."""
    return bool(session.info.get(_OUTBOX_WRITTEN))


def _wrote_outbox(session: AsyncSession) -> None:
    session.info[_OUTBOX_WRITTEN] = True


def _outbox_rows(events: Sequence[CloudEvent]) -> list[dict[str, object]]:
    return [
        {"event_id": e.id, "key": e.subject, "type": e.type, "body": e.to_bytes()} for e in events
    ]


async def enqueue(session: AsyncSession, outbox: sa.Table, events: Sequence[CloudEvent]) -> None:
    """Put events on the outbox inside the caller's transaction (published after commit)."""
    _wrote_outbox(session)
    await session.execute(sa.insert(outbox), _outbox_rows(events))


async def requeue_history(
    session: AsyncSession, events: sa.Table, outbox: sa.Table, types: frozenset[str]
) -> int:
    """Put every stored event of `types` back on the outbox, oldest first, replacing what
    was waiting there (all of it is in `events` too, so nothing is lost and the order per
    request is the order of the store). For a broker that lost its log: consumers ignore
    what they already handled."""
    _wrote_outbox(session)
    await session.execute(sa.delete(outbox))
    result = await session.execute(
        sa.insert(outbox).from_select(
            ["event_id", "key", "type", "body"],
            sa.select(
                events.c.event_id,
                events.c.stream_id,
                events.c.type,
                sa.func.convert_to(sa.cast(events.c.envelope, sa.Text), "UTF8"),
            )
            .where(events.c.type.in_(types))
            .order_by(events.c.position),
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
