"""Requests as they stood at any moment, folded again from the archive.

The same `project` that keeps the live read model folds the archived events here, so a
replay up to the end of the archive gives the views tracking serves. "As of" has two
meanings, both offered: up to a position of the archive (what tracking had recorded), or
up to a moment (events whose CloudEvent `time` is not later than it, in archive order).

`Fold` is the one fold: the auditor's offline replay feeds it an export file in one go, the
service's replay feeds it its archive batch by batch, as the batches arrive from the
database. Only the service trusts what it reads (`archived_events` says why that is safe).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from services.tracking.domain.archive_chain import Entry, entry_from_line
from services.tracking.domain.archived_events import ArchivedEvent, read_event
from services.tracking.domain.view import RequestView, project
from shared.events.envelope import EnvelopeError

Archived = Entry | bytes
"""An archive entry, or one line of an export (`entry_to_line`)."""


@dataclass(frozen=True, slots=True)
class Replay:
    """Every request's view as of a moment or position."""

    views: dict[str, RequestView]
    events_applied: int
    unreadable: tuple[tuple[int, str], ...]  # (position, why) of events that were skipped


class Fold:
    """Every request's view, folded from archived events fed in archive order (in one call
    or in many) up to `at` and/or `position`. An event that cannot be read is skipped and
    listed, so that the auditor sees what the fold could not account for. `trusted`: only
    for the archive this service wrote (see `archived_events`)."""

    def __init__(
        self, *, at: datetime | None = None, position: int | None = None, trusted: bool = False
    ) -> None:
        _check_moment(at)
        self.at, self.position, self.trusted = at, position, trusted
        self.views: dict[str, RequestView] = {}
        self.applied = 0
        self.unreadable: list[tuple[int, str]] = []
        self.complete = False  # True once an entry beyond `position` was seen

    def feed(self, archived: Iterable[Archived]) -> None:
        """Fold these entries, the next ones of the archive."""
        views, at, position, trusted = self.views, self.at, self.position, self.trusted
        applied = 0
        for item in archived:
            entry = entry_from_line(item) if isinstance(item, bytes) else item
            if position is not None and entry.position > position:
                self.complete = True
                break  # the archive is in position order
            try:
                event = read_event(entry.body, trusted=trusted)
                # Not `break` on a later time: different requests' times need not be in order.
                if at is not None and event.time > at:
                    continue
                payload = event.payload()
            except EnvelopeError as exc:
                self.unreadable.append((entry.position, str(exc)))
                continue
            subject = event.subject
            views[subject] = project(views.get(subject), payload, event.time)
            applied += 1
        self.applied += applied

    def result(self) -> Replay:
        return Replay(self.views, self.applied, tuple(self.unreadable))


def replay(
    archived: Iterable[Archived], *, at: datetime | None = None, position: int | None = None
) -> Replay:
    """Every request's view as of `at` and/or `position` (see `Fold`)."""
    fold = Fold(at=at, position=position)
    fold.feed(archived)
    return fold.result()


def state_as_of(
    archived: Iterable[Archived],
    request_id: str,
    *,
    at: datetime | None = None,
    position: int | None = None,
) -> tuple[RequestView | None, list[dict[str, Any]]]:
    """The request's view and timeline as of `at` (a timezone-aware moment) and/or
    `position`; (None, []) when it has no event by then. Each timeline item says whether
    the event changed the view's fold (`applied`) and the status after it."""
    view: RequestView | None = None
    timeline: list[dict[str, Any]] = []
    for entry, event in _events_of(archived, request_id, at=at, position=position):
        item = {
            "position": entry.position,
            "hash": entry.hash.hex(),
            "event_id": event.id,
            "type": event.type,
            "time": event.time.isoformat(),
            "source": event.source,
        }
        try:
            view = project(view, event.payload(), event.time)
        except EnvelopeError as exc:
            item |= {"applied": False, "note": str(exc)}
        else:
            item |= {"applied": True, "status": view.status}
        timeline.append(item)
    return view, timeline


def _events_of(
    archived: Iterable[Archived], subject: str, *, at: datetime | None, position: int | None
) -> Iterator[tuple[Entry, ArchivedEvent]]:
    _check_moment(at)
    # Bodies are canonical, so one request's events contain exactly this text: a cheap
    # filter before the costly parse.
    needle = b'"subject":' + orjson.dumps(subject)
    for item in archived:
        entry = entry_from_line(item) if isinstance(item, bytes) else item
        if position is not None and entry.position > position:
            break
        if needle not in entry.body:
            continue
        try:
            event = read_event(entry.body)
        except EnvelopeError as exc:
            raise EnvelopeError(f"position {entry.position}: {exc}") from exc
        if event.subject == subject and (at is None or event.time <= at):
            yield entry, event


def _check_moment(at: datetime | None) -> None:
    if at is not None and at.utcoffset() is None:
        raise ValueError("an 'as of' moment must carry its time zone")
