"""A service's hold on the key vault: opened as the service starts, closed as it stops."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from shared.events.catalogue import Payload, PersonalDataErased
from shared.personal_data.postgres_vault import PostgresKeyVault
from shared.personal_data.request_fields import PersonalDataReader
from shared.personal_data.settings import PersonalDataSettings, open_key_vault
from shared.personal_data.vault import CachedKeyVault

# A consumer's batch handler (shared.consumer.BatchHandler): a session and the events.
Handler = Callable[[Any, Sequence[tuple[Any, Payload]]], Awaitable[None]]
# The events a consumer takes at all (shared.event_handlers.Interest).
Interest = Callable[[Payload], bool]


class ServiceKeyVault:
    """The vault of one service process; `open` / `close` belong in its lifespan."""

    def __init__(self, settings: PersonalDataSettings) -> None:
        self._settings = settings
        self._vault: CachedKeyVault | None = None
        self._store: PostgresKeyVault | None = None

    async def open(self, *_: object) -> None:
        self._vault, self._store = open_key_vault(self._settings)

    async def close(self) -> None:
        if self._store is not None:
            await self._store.close()

    @property
    def vault(self) -> CachedKeyVault:
        if self._vault is None:
            raise RuntimeError("the key vault is opened when the service starts")
        return self._vault

    def reader(self) -> PersonalDataReader:
        return PersonalDataReader(self.vault)

    def noticing_erasures(self, interest: Interest) -> Interest:
        """`interest`, widened to the erasures `evicting` must see."""
        return lambda payload: isinstance(payload, PersonalDataErased) or interest(payload)

    def evicting(self, handler: Handler) -> Handler:
        """`handler`, forgetting a request's cached key when its erasure comes by."""

        async def handle(session: Any, events: Sequence[tuple[Any, Payload]]) -> None:
            for _, payload in events:
                if isinstance(payload, PersonalDataErased) and self._vault is not None:
                    self._vault.evict(payload.request_id)
            await handler(session, events)

        return handle
