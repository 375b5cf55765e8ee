"""Real receivers for notify's messages, started by the tests on free local ports.

`WebhookReceiver` is a small HTTP/1.1 server (asyncio streams) that checks every request's
Standard Webhooks signature with its own code, written from the specification and not from
notify's, and answers as the test tells it: accept, fail with 500, or hang. It can go down
and come back on the same port. `MailCatcher` is an aiosmtpd SMTP server.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from devstack.broker import free_port


def verify_standard_webhook(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The receiver's check (standardwebhooks.com): the signed content is
    `{webhook-id}.{webhook-timestamp}.{body}`, HMAC-SHA256 keyed with the base64-decoded part
    of the secret after `whsec_`; the header holds space-separated `v1,<base64>` signatures;
    a timestamp more than five minutes away from now is refused."""
    message_id = headers["webhook-id"]
    timestamp = headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > 300:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    content = message_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    for candidate in headers["webhook-signature"].split(" "):
        version, _, signature = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            return True
    return False


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified: bool
    answered: int
    at: float

    @property
    def event(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.body)
        return document

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class WebhookReceiver:
    """answer: 200 (accept), 500 (fail) or "hang" (never answer)."""

    secret: str = ""
    answer: int | str = 200
    port: int = field(default_factory=free_port)
    received: list[Received] = field(default_factory=list)
    _server: asyncio.Server | None = None
    _connections: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/mla"

    async def up(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def down(self) -> None:
        """Stop listening and drop every open connection (kept-alive ones included)."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.wait(list(self._connections))
        if server is not None:
            await server.wait_closed()

    def accepted(self) -> list[Received]:
        """Messages this receiver acknowledged with a 2xx, signature verified."""
        return [r for r in self.received if 200 <= r.answered < 300 and r.verified]

    def accepted_ids(self) -> list[str]:
        return [r.webhook_id for r in self.accepted()]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                headers, body = request
                verified = verify_standard_webhook(self.secret, headers, body)
                if self.answer == "hang":
                    self.received.append(Received(headers, body, verified, 0, time.monotonic()))
                    await asyncio.sleep(3600)
                status = int(self.answer) if verified else 401
                self.received.append(Received(headers, body, verified, status, time.monotonic()))
                writer.write(f"HTTP/1.1 {status} X\r\ncontent-length: 0\r\n\r\n".encode("ascii"))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return
        finally:
            self._connections.discard(task)
            writer.close()


async def _read_request(reader: asyncio.StreamReader) -> tuple[dict[str, str], bytes] | None:
    head = await reader.readuntil(b"\r\n\r\n") if not reader.at_eof() else b""
    if not head:
        return None
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return headers, body


class _Collect:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


class MailCatcher:
    """A real SMTP server (aiosmtpd, in its own thread) that keeps what it is sent."""

    def __init__(self) -> None:
        self.port = free_port()
        self._collect = _Collect()
        self._controller = Controller(self._collect, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> list[EmailMessage]:
        return self._collect.messages

    def to(self, address: str) -> list[EmailMessage]:
        return [
            message
            for message, (_, recipients) in zip(
                self._collect.messages, self._collect.envelopes, strict=True
            )
            if address in recipients
        ]

    async def start(self) -> None:
        await asyncio.to_thread(self._controller.start)

    async def stop(self) -> None:
        await asyncio.to_thread(self._controller.stop)
