"""A service's hold on the key vault: opened as the service starts, closed as it stops."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import structlog

from shared.events.catalogue import Payload, PersonalDataErased
from shared.personal_data.key_reservoir import KeyReservoir
from shared.personal_data.postgres_vault import PostgresKeyVault
from shared.personal_data.request_fields import PersonalDataReader
from shared.personal_data.settings import PersonalDataSettings, open_key_vault
from shared.personal_data.vault import CachedKeyVault

log = structlog.get_logger("key_vault")

# A consumer's batch handler (shared.event_handlers.BatchHandler): a session and the events.
Handler = Callable[[Any, Sequence[tuple[Any, Payload]]], Awaitable[None]]
# The kinds of event a consumer takes at all (shared.event_handlers.Interest).
Interest = Callable[[type[Payload]], bool]


class ServiceKeyVault:
    """The vault of one service process; `open` / `close` belong in its lifespan."""

    def __init__(self, settings: PersonalDataSettings) -> None:
        self._settings = settings
        self._vault: CachedKeyVault | None = None
        self._store: PostgresKeyVault | None = None
        self._reservoir: KeyReservoir | None = None

    async def open(self, *_: object) -> None:
        self._vault, self._store = open_key_vault(self._settings)

    async def close(self) -> None:
        if self._reservoir is not None:
            try:
                await self._reservoir.close()
            except Exception as exc:  # the vault unreachable as the service stops
                log.warning("key_reservoir.not_emptied", error=type(exc).__name__)
        if self._store is not None:
            await self._store.close()

    @property
    def vault(self) -> CachedKeyVault:
        if self._vault is None:
            raise RuntimeError("the key vault is opened when the service starts")
        return self._vault

    @property
    def reservoir(self) -> KeyReservoir:
        """The keys of the requests this process will receive (intake), made ahead."""
        if self._reservoir is None:
            self._reservoir = KeyReservoir(self.vault, self._settings.key_reservoir_size)
        return self._reservoir

    def reader(self) -> PersonalDataReader:
        return PersonalDataReader(self.vault)

    def noticing_erasures(self, interest: Interest) -> Interest:
        """`interest`, widened to the erasures `evicting` must see."""
        return lambda kind: issubclass(kind, PersonalDataErased) or interest(kind)

    def evicting(self, handler: Handler) -> Handler:
        """`handler`, forgetting a request's cached key when its erasure comes by."""

        async def handle(session: Any, events: Sequence[tuple[Any, Payload]]) -> None:
            for _, payload in events:
                if isinstance(payload, PersonalDataErased) and self._vault is not None:
                    self._vault.evict(payload.request_id)
            await handler(session, events)

        return handle
