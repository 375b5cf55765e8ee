"""A small HTTP/1.1 keep-alive client on asyncio protocols, for the load generator.

The generator shares the machine's two cores with the services it measures, so every
microsecond it spends is taken from them: httpx costs several hundred microseconds a call,
this client a few tens (a request is one prepared bytes string; a response is split at
its blank line and read to its Content-Length). It speaks only what the services answer:
responses with a Content-Length (the event stream, chunked, has its own reader below).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import orjson


class HttpError(Exception):
    """The connection broke or the answer was not HTTP as expected."""


@dataclass
class Answer:
    status: int
    body: bytes

    def json(self) -> object:
        return orjson.loads(self.body)


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._waiter: asyncio.Future[Answer] | None = None
        self._status = 0
        self._length = -1  # of the body once the head is read
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not subclasses of asyncio's, only alike.
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(HttpError(f"connection lost: {exc!r}"))

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if self._length < 0:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self._buffer[:end]).lower()
            del self._buffer[: end + 4]
            self._status = int(head[9:12])
            at = head.find(b"\r\ncontent-length:")
            if at < 0:
                self._fail("an answer without Content-Length")
                return
            stop = head.find(b"\r\n", at + 2)
            self._length = int(head[at + 17 : stop if stop > 0 else None])
        if len(self._buffer) >= self._length:
            body = bytes(self._buffer[: self._length])
            del self._buffer[: self._length]
            self._length = -1
            if self._waiter is not None and not self._waiter.done():
                self._waiter.set_result(Answer(self._status, body))

    def _fail(self, why: str) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(HttpError(why))
        if self.transport is not None:
            self.transport.close()

    def send(self, request: bytes) -> asyncio.Future[Answer]:
        assert self.transport is not None
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return self._waiter


# A connection idle longer than this is not used again: the server closes one idle for 5 s
# (uvicorn's keep-alive), and a request written as it does so is lost with the connection
# ("connection reset by peer", seen once in 500 lifecycles, whose steps wait seconds).
IDLE_SECONDS = 3.0


class Pool:
    """Keep-alive connections to one host and port, taken one request at a time."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._idle: list[tuple[_Connection, float]] = []  # with when each was last used
        self._all: list[_Connection] = []

    async def _take(self) -> _Connection:
        loop = asyncio.get_running_loop()
        while self._idle:
            connection, since = self._idle.pop()
            if connection.closed:
                continue
            if loop.time() - since > IDLE_SECONDS:
                if connection.transport is not None:
                    connection.transport.close()
                continue
            return connection
        _, connection = await loop.create_connection(_Connection, self.host, self.port)
        self._all.append(connection)
        return connection

    async def call(self, request: bytes) -> Answer:
        connection = await self._take()
        try:
            answer = await connection.send(request)
        except BaseException:
            if connection.transport is not None:
                connection.transport.close()
            raise
        self._idle.append((connection, asyncio.get_running_loop().time()))
        return answer

    def close(self) -> None:
        for connection in self._all:
            if connection.transport is not None:
                connection.transport.close()
        self._all.clear()
        self._idle.clear()


def request_bytes(
    method: str, host: str, path: str, token: str, body: bytes | None = None, **headers: str
) -> bytes:
    """One request, ready to write (`headers`: underscores become dashes)."""
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {host}",
        f"Authorization: Bearer {token}",
    ]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


async def event_stream(
    host: str, port: int, path: str, token: str, last_id: str | None = None
) -> AsyncIterator[tuple[str | None, bytes]]:
    """The (id, data) of each server-sent event of one connection, until it ends."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        headers = {"Accept": "text/event-stream"}
        if last_id is not None:
            headers["Last-Event-ID"] = last_id
        writer.write(request_bytes("GET", host, path, token, **headers))
        head = await reader.readuntil(b"\r\n\r\n")
        if head[9:12] != b"200":
            raise HttpError(f"the stream answered {head[:12]!r}")
        if b"transfer-encoding: chunked" not in head.lower():
            raise HttpError("the stream is not chunked")
        pending = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            if size == 0:
                return
            pending += (await reader.readexactly(size + 2))[:-2]
            while b"\n\n" in pending:
                block, pending = pending.split(b"\n\n", 1)
                event_id, data = None, b""
                for line in block.split(b"\n"):
                    if line.startswith(b"id: "):
                        event_id = line[4:].decode()
                    elif line.startswith(b"data: "):
                        data = line[6:]
                yield event_id, data
    finally:
        writer.close()
