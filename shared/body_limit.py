"""The largest request body a service reads, enforced before any of it is parsed.

A body announced larger than the limit (`Content-Length`) is refused at once, unread. A body
without a length (chunked) is counted as it arrives and refused the moment it passes the
limit, so that neither form can make the service buffer more than the limit in memory.
Either way the caller gets a 413 problem naming the limit.
"""

from __future__ import annotations

from fastapi import HTTPException
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.problems import problem_response

DEFAULT_MAX_BODY_BYTES = 1024 * 1024


class ContentTooLargeError(HTTPException):
    """The body passed the limit while being read.

    An `HTTPException` because FastAPI lets exactly those out of its body reader unchanged
    (anything else becomes a generic 400); the problem handler renders it as 413.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, detail=too_large_detail(limit))


def too_large_detail(limit: int) -> str:
    return f"The request body is larger than the limit of {limit} bytes; nothing was read."


class BodyLimitMiddleware:
    """Refuse request bodies larger than `max_bytes` with 413."""

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _announced_length(scope) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise ContentTooLargeError(self.max_bytes)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except ContentTooLargeError:
            # Raised where no handler turned it into a response (a route reading the stream
            # itself); once a response has begun there is nothing left to tell the caller.
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            413, "http-413", "Content too large", too_large_detail(self.max_bytes), Request(scope)
        )
        # The rest of the body is not read: the connection cannot be reused for another request.
        response.headers["Connection"] = "close"
        await response(scope, receive, send)


def _announced_length(scope: Scope) -> int:
    try:
        return int(Headers(scope=scope).get("content-length", "0"))
    except ValueError:
        return 0
