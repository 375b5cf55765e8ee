"""Sending one signed webhook attempt (Standard Webhooks, CloudEvents structured mode).

The host is resolved and checked before every attempt and the request goes to the checked
address (with the original Host header and TLS server name), so what was checked is what is
called. Redirects are not followed: a 3xx is a failed attempt.
"""

from __future__ import annotations

import time

import httpx

from services.notify.adapters.failures import AttemptFailedError
from services.notify.adapters.targets import TargetGuard
from services.notify.domain.errors import TargetRefusedError
from services.notify.domain.signature import sign
from shared.events.envelope import CONTENT_TYPE


class WebhookSender:
    def __init__(self, guard: TargetGuard, timeout: float) -> None:
        self._guard = guard
        self._timeout = timeout
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(self._timeout),
            follow_redirects=False,
            trust_env=False,  # no proxy between the check and the address checked
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def send(self, *, message_id: str, url: str, secret: str, body: bytes) -> int:
        """Send one attempt; returns the receiver's 2xx status or raises AttemptFailedError."""
        assert self._client is not None, "start() the sender first"
        try:
            target, addresses = await self._guard.check(url)
        except TargetRefusedError as exc:
            raise AttemptFailedError(str(exc)) from None
        timestamp = int(time.time())
        headers = {
            "host": target.host_header,
            "content-type": CONTENT_TYPE,
            "user-agent": "mla-notify/1",
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, message_id, timestamp, body),
        }
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        for address in addresses[:-1]:
            try:
                return await self._post(target.url_for(address), body, headers, extensions)
            except _Unreachable:
                continue  # the name has other addresses: try the next (IPv6 and IPv4, say)
        try:
            return await self._post(target.url_for(addresses[-1]), body, headers, extensions)
        except _Unreachable as exc:
            raise AttemptFailedError(exc.reason) from None

    async def _post(
        self, url: str, body: bytes, headers: dict[str, str], extensions: dict[str, str]
    ) -> int:
        assert self._client is not None
        try:
            response = await self._client.post(
                url, content=body, headers=headers, extensions=extensions
            )
        except httpx.ConnectError as exc:
            raise _Unreachable(f"cannot connect: {exc}"[:300]) from None
        except httpx.TimeoutException:
            raise AttemptFailedError(f"no answer within {self._timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise AttemptFailedError(f"{type(exc).__name__}: {exc}"[:300]) from None
        if not 200 <= response.status_code < 300:
            raise AttemptFailedError(f"HTTP {response.status_code}", response.status_code)
        return response.status_code


class _Unreachable(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
