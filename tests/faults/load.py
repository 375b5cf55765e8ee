"""A steady stream of submissions, made the way a careful client system makes them: each
request under its own `Idempotency-Key`, sent again with the same key after a refusal it may
retry (a dropped connection, 429, 5xx) until it is accepted. What was accepted is what the
system must account for, whatever broke meanwhile."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

import httpx

from tests.support.api import a_request
from tests.support.auth import bearer

RETRIED = {429, 500, 502, 503, 504}
DRAIN_SECONDS = 120


@dataclass
class Load:
    intake: str  # intake's base URL
    marker: str  # in every reference, to find this load's requests in tracking's list
    rate: float = 8.0  # submissions a second
    accepted: dict[str, str] = field(default_factory=dict)  # idempotency key -> request id
    due_tomorrow: set[str] = field(default_factory=set)  # request ids
    answers: Counter[str] = field(default_factory=Counter)
    refused: list[str] = field(default_factory=list)  # answers no retry can fix: a defect
    sent: int = 0  # submissions started
    _running: bool = False
    _pending: set[asyncio.Task[None]] = field(default_factory=set)
    _pacer: asyncio.Task[None] | None = None
    _unfinished: int = 0

    def start(self) -> None:
        self._running = True
        self._pacer = asyncio.ensure_future(self._pace())

    async def stop(self) -> None:
        """Stop submitting new requests; wait until each one started was accepted."""
        self._running = False
        if self._pacer is not None:
            await self._pacer
        assert not self._unfinished, (
            f"{self._unfinished} submissions still not accepted after {DRAIN_SECONDS}s"
        )

    async def _pace(self) -> None:
        async with httpx.AsyncClient(timeout=10, headers=bearer("authority")) as http:
            while self._running:
                task = asyncio.ensure_future(self._submit(http))
                self._pending.add(task)
                task.add_done_callback(self._pending.discard)
                await asyncio.sleep(1 / self.rate)
            if self._pending:
                _, late = await asyncio.wait(set(self._pending), timeout=DRAIN_SECONDS)
                for task in late:
                    task.cancel()
                self._unfinished = len(late)

    async def _submit(self, http: httpx.AsyncClient) -> None:
        self.sent += 1
        number, key = self.sent, str(uuid.uuid4())
        body = a_request()
        body["requesting_authority"]["reference"] = f"{self.marker}-{number}"
        soon = number % 5 == 0  # due tomorrow: a deadline alert goes out at once
        if soon:
            body["requested_date"] = (date.today() + timedelta(days=1)).isoformat()
        while True:
            try:
                response = await http.post(
                    f"{self.intake}/v1/requests", json=body, headers={"Idempotency-Key": key}
                )
            except httpx.TransportError as exc:
                self.answers[type(exc).__name__] += 1
            else:
                self.answers[str(response.status_code)] += 1
                if response.status_code in (200, 201):
                    self.accepted[key] = response.json()["id"]
                    if soon:
                        self.due_tomorrow.add(self.accepted[key])
                    return
                if response.status_code not in RETRIED:
                    self.refused.append(f"{response.status_code}: {response.text[:200]}")
                    return
            await asyncio.sleep(0.5)

    @property
    def ids(self) -> set[str]:
        return set(self.accepted.values())
