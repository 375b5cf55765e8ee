"""What a replay answers: how many events it folded into how many requests, in which
statuses, what it could not read, and how its views compare with the live read model.

A replay folded in shares of the requests (one process each) is summarised share by share
where it was folded, so that only these figures travel back, never the views; the shares'
summaries add up to the summary of the whole fold (`merged`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import orjson

from services.tracking.domain.history import Replay
from services.tracking.domain.view import RequestView, to_document

SHOWN = 20  # differing requests and unreadable events named in the answer


@dataclass(frozen=True, slots=True)
class ReplaySummary:
    events_applied: int
    requests: int
    by_status: dict[str, int]
    unreadable: tuple[tuple[int, str], ...]  # the first SHOWN (position, why)
    differing_count: int | None  # None: not compared with the live read model
    differing_requests: tuple[str, ...]  # the first SHOWN, by id

    @classmethod
    def of(cls, replay: Replay, differing: tuple[int, list[str]] | None) -> ReplaySummary:
        return cls(
            events_applied=replay.events_applied,
            requests=len(replay.views),
            by_status=dict(Counter(view.status for view in replay.views.values())),
            unreadable=replay.unreadable[:SHOWN],
            differing_count=differing[0] if differing is not None else None,
            differing_requests=tuple(differing[1]) if differing is not None else (),
        )

    @staticmethod
    def merged(shares: Iterable[ReplaySummary]) -> ReplaySummary:
        """The summary of the whole fold, from those of its shares (each request is in
        exactly one share)."""
        parts = list(shares)
        by_status: Counter[str] = Counter()
        for part in parts:
            by_status.update(part.by_status)
        compared = [p.differing_count for p in parts if p.differing_count is not None]
        return ReplaySummary(
            events_applied=sum(p.events_applied for p in parts),
            requests=sum(p.requests for p in parts),
            by_status=dict(by_status),
            unreadable=tuple(sorted(u for p in parts for u in p.unreadable)[:SHOWN]),
            differing_count=sum(compared) if len(compared) == len(parts) and parts else None,
            differing_requests=tuple(sorted(r for p in parts for r in p.differing_requests))[
                :SHOWN
            ],
        )


class Comparison:
    """A fold's views compared with the live read model, given page by page as
    (request id, view JSON): how many requests differ (one side missing counts), and the
    first ones by id."""

    def __init__(self, views: Mapping[str, RequestView]) -> None:
        self._views = views
        self._found: list[str] = []
        self._seen: set[str] = set()

    def feed(self, live: Iterable[tuple[str, str]]) -> None:
        views, found = self._views, self._found
        for request_id, text in live:
            view = views.get(request_id)
            if view is None or to_document(view) != orjson.loads(text):
                found.append(request_id)
            if view is not None:
                self._seen.add(request_id)

    def result(self) -> tuple[int, list[str]]:
        found = list(self._found)
        if len(self._seen) < len(self._views):  # views the live read model does not have
            found.extend(self._views.keys() - self._seen)
        return len(found), sorted(found)[:SHOWN]


def differing(
    views: Mapping[str, RequestView], live: Iterator[tuple[str, str]]
) -> tuple[int, list[str]]:
    """`Comparison` of `views` with the whole of `live` at once."""
    comparison = Comparison(views)
    comparison.feed(live)
    return comparison.result()
