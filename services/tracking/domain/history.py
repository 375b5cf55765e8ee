"""Requests as they stood at any moment, folded again from the archive.

The same `project` that keeps the live read model folds the archived events here, so a
replay up to the end of the archive gives the views tracking serves. "As of" has two
meanings, both offered: up to a position of the archive (what tracking had recorded), or
up to a moment (events whose CloudEvent `time` is not later than it, in archive order).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from services.tracking.domain.archive_chain import Entry, entry_from_line
from services.tracking.domain.view import RequestView, project
from shared.events.catalogue import read_payload
from shared.events.envelope import CloudEvent, EnvelopeError

Archived = Entry | bytes
"""An archive entry, or one line of an export (`entry_to_line`)."""


@dataclass(frozen=True, slots=True)
class Replay:
    """Every request's view as of a moment or position."""

    views: dict[str, RequestView]
    events_applied: int
    unreadable: tuple[tuple[int, str], ...]  # (position, why) of events that were skipped


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
    for entry, event in _events(archived, at=at, position=position, subject=request_id):
        item = {
            "position": entry.position,
            "hash": entry.hash.hex(),
            "event_id": event.id,
            "type": event.type,
            "time": event.time.isoformat(),
            "source": event.source,
        }
        try:
            view = project(view, read_payload(event), event.time)
        except EnvelopeError as exc:
            item |= {"applied": False, "note": str(exc)}
        else:
            item |= {"applied": True, "status": view.status}
        timeline.append(item)
    return view, timeline


def replay(
    archived: Iterable[Archived], *, at: datetime | None = None, position: int | None = None
) -> Replay:
    """Every request's view as of `at` and/or `position`. An event that cannot be read is
    skipped and listed, so that the auditor sees what the fold could not account for."""
    views: dict[str, RequestView] = {}
    applied = 0
    unreadable: list[tuple[int, str]] = []
    for entry, event in _events(archived, at=at, position=position, unreadable=unreadable):
        try:
            payload = read_payload(event)
        except EnvelopeError as exc:
            unreadable.append((entry.position, str(exc)))
            continue
        views[event.subject] = project(views.get(event.subject), payload, event.time)
        applied += 1
    return Replay(views, applied, tuple(unreadable))


def _events(
    archived: Iterable[Archived],
    *,
    at: datetime | None,
    position: int | None,
    subject: str | None = None,
    unreadable: list[tuple[int, str]] | None = None,
) -> Iterator[tuple[Entry, CloudEvent]]:
    if at is not None and at.utcoffset() is None:
        raise ValueError("an 'as of' moment must carry its time zone")
    # Bodies are canonical, so one request's events contain exactly this text: a cheap
    # filter before the costly parse when only that request is wanted.
    needle = b'"subject":' + orjson.dumps(subject) if subject is not None else b""
    for item in archived:
        entry = entry_from_line(item) if isinstance(item, bytes) else item
        if position is not None and entry.position > position:
            break  # the archive is in position order
        if needle not in entry.body:
            continue
        try:
            event = CloudEvent.from_bytes(entry.body)
        except EnvelopeError as exc:
            if unreadable is None:
                raise EnvelopeError(f"position {entry.position}: {exc}") from exc
            unreadable.append((entry.position, str(exc)))
            continue
        if subject is not None and event.subject != subject:
            continue
        # Not `break`: the times of different requests' events need not be in order.
        if at is None or event.time <= at:
            yield entry, event
