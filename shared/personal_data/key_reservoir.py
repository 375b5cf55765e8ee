"""Data keys made ahead, in bulk, for requests not received yet.

Every submission needs a new data key before it can seal anything. Made one at a time, each
was a write of its own to the vault's database on the way in (a round trip and a commit).
The reservoir makes them `size` at a time, as it runs low, in one statement; a submission
takes one, and the key's id becomes the new request's id.

A key is handed out once. One that sealed nothing for sure (an idempotent replay: the
request was stored before, under its own key) comes back to be handed out again; after a
failure it is dropped, since whether its request was stored may be unknown. The keys never
handed out are removed from the vault when the process stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import deque
from collections.abc import Callable

import structlog

from shared.personal_data.sealing import DataKey
from shared.personal_data.vault import KeyVault

log = structlog.get_logger("key_reservoir")


def new_request_id() -> str:
    return str(uuid.uuid4())


class KeyReservoir:
    def __init__(
        self, vault: KeyVault, size: int = 64, new_id: Callable[[], str] = new_request_id
    ) -> None:
        if size < 1:
            raise ValueError("a reservoir holds at least one key")
        self._vault = vault
        self._size = size
        self._new_id = new_id
        self._keys: deque[DataKey] = deque()
        self._filling: asyncio.Task[None] | None = None
        self._closed = False

    def __len__(self) -> int:
        return len(self._keys)

    async def take(self) -> DataKey:
        """A new data key, stored in the vault, whose id no request has yet."""
        while not self._keys:
            if self._closed:
                raise RuntimeError("the key reservoir is closed")
            # Shielded: one taker giving up (its request cancelled) stops no one's fill.
            await asyncio.shield(self._fill())
        key = self._keys.popleft()
        if len(self._keys) <= self._size // 2:
            self._fill_in_background()
        return key

    def give_back(self, key: DataKey) -> None:
        """A key that sealed nothing stored anywhere, handed out again next."""
        self._keys.appendleft(key)

    async def close(self) -> None:
        """Stop filling and remove the keys never handed out from the vault."""
        self._closed = True
        if self._filling is not None:
            self._filling.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._filling
        unissued = [key.key_id for key in self._keys]
        self._keys.clear()
        if unissued:
            await self._vault.discard_unissued(unissued)

    def _fill(self) -> asyncio.Task[None]:
        if self._filling is None or self._filling.done():
            self._filling = asyncio.get_running_loop().create_task(self._make())
        return self._filling

    def _fill_in_background(self) -> None:
        if self._filling is not None and not self._filling.done():
            return
        task = self._fill()
        # A failure here only delays: the next take that finds the reservoir empty fills it
        # itself and gets the error, if there still is one.
        task.add_done_callback(_log_failure)

    async def _make(self) -> None:
        wanted = self._size - len(self._keys)
        if wanted > 0 and not self._closed:
            made = await self._vault.create_many([self._new_id() for _ in range(wanted)])
            self._keys.extend(made)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("key_reservoir.fill_failed", error=type(task.exception()).__name__)
