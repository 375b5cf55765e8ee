"""The key vault: the one place where the data keys of requests are kept.

Erasure destroys a request's data key here, and with it every copy of the request's personal
data, wherever that copy is stored. The vault keeps a tombstone of a destroyed key (its id
and when it was destroyed), never the key.

`CachedKeyVault` keeps keys in memory for a short while, because every read of a request's
details needs its key. A cached key outlives its destruction at most `ttl_seconds` in a
process that did not destroy it (the process that destroys evicts at once, and every
process evicts when it consumes `mla.request.personal_data_erased`).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from shared.personal_data.sealing import DataKey


class KeyState(StrEnum):
    ACTIVE = "active"
    ERASED = "erased"
    UNKNOWN = "unknown"


class KeyErasedError(Exception):
    """A data key was asked for again after it was destroyed."""


class KeyVault(Protocol):
    """Where the data keys live; implementations keep them wrapped under the master key."""

    async def create(self, key_id: str) -> DataKey:
        """A new data key for `key_id` (the same key again when it exists already);
        `KeyErasedError` once it has been destroyed."""
        ...

    async def create_many(self, key_ids: Sequence[str]) -> list[DataKey]:
        """New data keys for ids never used before, stored at once; an id that was used
        after all gets none (the list is then shorter)."""
        ...

    async def discard_unissued(self, key_ids: Sequence[str]) -> None:
        """Remove keys made ahead that were never handed out: they sealed nothing, and
        nothing will ever ask for them (`KeyReservoir.close`)."""
        ...

    async def get(self, key_id: str) -> DataKey | None:
        """The data key, or None when it was destroyed or never made."""
        ...

    async def state(self, key_id: str) -> KeyState: ...

    async def destroy(self, key_id: str, at: datetime) -> bool:
        """Destroy the key for good, leaving a tombstone; False when there was none to
        destroy (destroyed before, or never made)."""
        ...


class InMemoryKeyVault:
    """A vault in a dict: the fake for tests of code that needs one."""

    def __init__(self) -> None:
        self._keys: dict[str, DataKey | None] = {}

    async def create(self, key_id: str) -> DataKey:
        if key_id in self._keys:
            existing = self._keys[key_id]
            if existing is None:
                raise KeyErasedError(key_id)
            return existing
        key = self._keys[key_id] = DataKey.generate(key_id)
        return key

    async def create_many(self, key_ids: Sequence[str]) -> list[DataKey]:
        return [await self.create(key_id) for key_id in key_ids if key_id not in self._keys]

    async def discard_unissued(self, key_ids: Sequence[str]) -> None:
        for key_id in key_ids:
            if self._keys.get(key_id) is not None:  # a tombstone stays
                del self._keys[key_id]

    async def get(self, key_id: str) -> DataKey | None:
        return self._keys.get(key_id)

    async def state(self, key_id: str) -> KeyState:
        if key_id not in self._keys:
            return KeyState.UNKNOWN
        return KeyState.ACTIVE if self._keys[key_id] is not None else KeyState.ERASED

    async def destroy(self, key_id: str, at: datetime) -> bool:
        had_key = self._keys.get(key_id) is not None
        self._keys[key_id] = None
        return had_key


class CachedKeyVault:
    """A vault with keys kept in memory for `ttl_seconds` after they were read."""

    def __init__(
        self,
        inner: KeyVault,
        ttl_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inner = inner
        self._ttl = ttl_seconds
        self._clock = clock
        # In the order the keys were kept, which is the order they expire in (one ttl).
        self._cache: OrderedDict[str, tuple[float, DataKey]] = OrderedDict()

    async def create(self, key_id: str) -> DataKey:
        return self._keep(await self._inner.create(key_id))

    async def create_many(self, key_ids: Sequence[str]) -> list[DataKey]:
        # Not kept: made ahead, they may wait longer than the cache keeps anything.
        return await self._inner.create_many(key_ids)

    async def discard_unissued(self, key_ids: Sequence[str]) -> None:
        await self._inner.discard_unissued(key_ids)

    async def get(self, key_id: str) -> DataKey | None:
        cached = self._cache.get(key_id)
        if cached is not None and cached[0] > self._clock():
            return cached[1]
        self._cache.pop(key_id, None)
        key = await self._inner.get(key_id)
        # Absence is never cached: a key is made before anything is sealed under it.
        return self._keep(key) if key is not None else None

    async def state(self, key_id: str) -> KeyState:
        return await self._inner.state(key_id)

    async def destroy(self, key_id: str, at: datetime) -> bool:
        self.evict(key_id)
        return await self._inner.destroy(key_id, at)

    def evict(self, key_id: str) -> None:
        """Forget a key (it was destroyed, maybe by another process)."""
        self._cache.pop(key_id, None)

    def __len__(self) -> int:
        """How many keys are held in memory."""
        return len(self._cache)

    def _keep(self, key: DataKey) -> DataKey:
        now = self._clock()
        # The expired keys are let go as new ones come: a key read once and never again
        # would otherwise stay in memory for the life of the process (every request a
        # service ever opened), though never used after its time.
        while self._cache:
            oldest, (expires, _) = next(iter(self._cache.items()))
            if expires > now:
                break
            del self._cache[oldest]
        self._cache[key.key_id] = (now + self._ttl, key)
        self._cache.move_to_end(key.key_id)
        return key
