"""The auditor's use cases: export, verify, sign the head, replay the read models."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.tracking.adapters.archive_store import ArchiveStore
from services.tracking.adapters.read_model import ReadModel
from services.tracking.domain.archive import (
    Checkpoint,
    Entry,
    Verification,
    entry_to_line,
    key_id,
    sign_checkpoint,
    verify,
)
from services.tracking.domain.view import RequestView, project, to_document
from shared.db import UnitOfWork
from shared.events.catalogue import read_payload
from shared.events.envelope import CloudEvent


async def export_lines(uow: UnitOfWork, from_position: int) -> AsyncIterator[bytes]:
    """The archive from a position, one NDJSON line per entry."""
    async with uow:
        async for batch in ArchiveStore(uow.session).entries(from_position):
            yield b"".join(entry_to_line(entry) for entry in batch)


async def all_checkpoints(uow: UnitOfWork) -> list[Checkpoint]:
    async with uow:
        return await ArchiveStore(uow.session).checkpoints()


async def verify_archive(uow: UnitOfWork, private_key: Ed25519PrivateKey) -> Verification:
    """The whole chain and every checkpoint, checked against the service's public key."""
    async with uow:
        store = ArchiveStore(uow.session)
        checkpoints = await store.checkpoints()
        entries: list[Entry] = []
        async for batch in store.entries():
            entries.extend(batch)
    return verify(entries, checkpoints, private_key.public_key())


async def sign_head(uow: UnitOfWork, private_key: Ed25519PrivateKey) -> Checkpoint | None:
    """Sign the current head, unless the last checkpoint already covers it."""
    async with uow:
        store = ArchiveStore(uow.session)
        position, head_hash = await store.head()
        existing = await store.checkpoints()
        if position == 0 or (existing and existing[-1].position == position):
            return None
        checkpoint = sign_checkpoint(
            private_key, position, head_hash, datetime.now(UTC).isoformat(timespec="seconds")
        )
        await store.add_checkpoint(checkpoint)
        await uow.commit()
    return checkpoint


async def replay(
    uow: UnitOfWork,
    *,
    until_position: int | None = None,
    as_of: datetime | None = None,
    apply: bool = False,
) -> dict[str, Any]:
    """Rebuild every request's view from the archive (whole, or up to a position or a
    moment) and compare it with the live read model. With `apply`, the live read model is
    replaced by the rebuilt one (only for a whole replay)."""
    views: dict[str, RequestView] = {}
    events = 0
    async with uow:
        store = ArchiveStore(uow.session)
        async for batch in store.entries(until_position=until_position):
            for entry in batch:
                event = CloudEvent.model_validate(orjson.loads(entry.body))
                if as_of is not None and event.time > as_of:
                    continue
                payload = read_payload(event)
                views[event.subject] = project(views.get(event.subject), payload, event.time)
                events += 1
        whole = until_position is None and as_of is None
        live = await ReadModel(uow.session).all_documents()
        rebuilt = {request_id: to_document(view) for request_id, view in views.items()}
        differing = sorted(
            request_id
            for request_id in set(live) | set(rebuilt)
            if _comparable(live.get(request_id)) != _comparable(rebuilt.get(request_id))
        )
        if apply and whole:
            await ReadModel(uow.session).replace_all(list(views.values()))
            await uow.commit()
    return {
        "events_replayed": events,
        "requests": len(views),
        "by_status": dict(Counter(view.status for view in views.values())),
        "compared_with_live": whole,
        "equal_to_live": not differing if whole else None,
        "differing_requests": differing[:20] if whole else [],
        "applied": apply and whole,
    }


def _comparable(document: dict[str, Any] | None) -> Any:
    # JSON round trip: what PostgreSQL returns and what the fold produced compare equal.
    return orjson.loads(orjson.dumps(document)) if document is not None else None


def public_key_id(private_key: Ed25519PrivateKey) -> str:
    return key_id(private_key.public_key())
