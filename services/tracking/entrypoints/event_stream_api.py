"""`GET /v1/events/stream`: the live event stream (services/tracking/event_stream.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Header, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.types import Receive, Scope, Send

from services.tracking.adapters.event_feed import EventFeed
from services.tracking.event_stream import (
    EVENT_STREAM,
    Closing,
    StreamTiming,
    Subscribers,
    TooManySubscribersError,
    event_stream,
    start_position,
)
from services.tracking.settings import Settings
from shared.auth import Action, Grant, authorize
from shared.db import UnitOfWork
from shared.problems import InvalidInputError, problem_response

router = APIRouter(prefix="/v1", tags=["live"])
MAX_POSITION = 2**53 - 1
SUBSCRIBER_RETRY_SECONDS = "10"


class EventStreamResponse(StreamingResponse):
    """A stream that gives its subscriber's place back however it ends: finished, broken,
    cancelled, or never started because the client left first."""

    def __init__(self, content: Any, subscribers: Subscribers) -> None:
        super().__init__(
            content,
            media_type=EVENT_STREAM,
            # No proxy may hold events back to fill a buffer (nginx reads this one).
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )
        self._subscribers = subscribers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._subscribers.leave()


# Left out of the OpenAPI document: OpenAPI cannot describe the messages of an event stream,
# and a client generated from the document (or the schema tests) would wait on an answer
# that does not end. The README and this module describe it.
@router.get("/events/stream", include_in_schema=False, response_model=None)
async def stream(
    request: Request,
    grant: Annotated[Grant, authorize(Action.WATCH_REQUESTS)],
    after: Annotated[
        int | None,
        Query(ge=0, le=MAX_POSITION, description="Start after this archive position."),
    ] = None,
    last_event_id: Annotated[
        str | None,
        Header(max_length=20, description="The id of the last event received (a position)."),
    ] = None,
) -> StreamingResponse | JSONResponse:
    """Every event tracking archives from now on (or after `after` / `Last-Event-ID`), as
    server-sent events: `id` is the archive position, `data` the event's type, request,
    time, and the request's status, domestic reference and whether it is overdue now.
    A comment line after each `TRACKING_STREAM_HEARTBEAT_SECONDS` of silence; the
    connection ends after `TRACKING_STREAM_MAX_SECONDS` and the client resumes from its
    last id. 503 while the instance serves as many streams as it may."""
    try:
        start = start_position(after, last_event_id)
    except ValueError as exc:
        raise InvalidInputError(
            str(exc),
            errors=[{"field": "Last-Event-ID", "message": str(exc), "type": "invalid"}],
        ) from exc
    subscribers: Subscribers = request.app.state.stream_subscribers
    try:
        subscribers.join()
    except TooManySubscribersError as exc:
        response = problem_response(exc.status, exc.type_, exc.title, exc.detail, request)
        response.headers["Retry-After"] = SUBSCRIBER_RETRY_SECONDS
        return response
    try:
        runtime = request.app.state.runtime
        if start is None:
            start = await _head(runtime.unit_of_work())
    except BaseException:
        subscribers.leave()
        raise

    async def look(position: int) -> list[dict[str, Any]]:
        uow: UnitOfWork = runtime.unit_of_work()
        async with uow:
            return await EventFeed(uow.session).after(position, datetime.now(UTC))

    settings: Settings = request.app.state.settings
    timing = StreamTiming(
        poll=settings.stream_poll_seconds,
        heartbeat=settings.stream_heartbeat_seconds,
        max_seconds=settings.stream_max_seconds,
    )
    closing: Closing = request.app.state.stream_closing
    closing.watch()

    async def ended() -> bool:
        return closing.now or await request.is_disconnected()

    content = event_stream(start, look, timing, disconnected=ended)
    return EventStreamResponse(content, subscribers)


async def _head(uow: UnitOfWork) -> int:
    async with uow:
        return await EventFeed(uow.session).head()


def install(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    app.state.stream_subscribers = Subscribers(settings.stream_max_subscribers)
    app.state.stream_closing = Closing()
    app.include_router(router)
