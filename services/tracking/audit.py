"""The auditor's use cases: export, verify, sign the head, replay the read models (the
last in `audit_replay`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.tracking.adapters.archive_store import ArchiveStore
from services.tracking.adapters.parallel_verify import PARALLEL_FROM, verify_in_ranges
from services.tracking.audit_replay import replay
from services.tracking.domain.archive import (
    Checkpoint,
    Verification,
    entry_to_line,
    key_id,
    sign_checkpoint,
    verify,
)
from shared.db import UnitOfWork

__all__ = [
    "all_checkpoints",
    "export_lines",
    "public_key_id",
    "replay",
    "sign_head",
    "verify_archive",
]


async def export_lines(uow: UnitOfWork, from_position: int) -> AsyncIterator[bytes]:
    """The archive from a position, one NDJSON line per entry."""
    async with uow:
        async for batch in ArchiveStore(uow.session).entries(from_position):
            yield b"".join(entry_to_line(entry) for entry in batch)


async def all_checkpoints(uow: UnitOfWork) -> list[Checkpoint]:
    async with uow:
        return await ArchiveStore(uow.session).checkpoints()


async def verify_archive(
    uow: UnitOfWork,
    private_key: Ed25519PrivateKey,
    *,
    workers: int = 1,
    parallel_from: int = PARALLEL_FROM,
) -> Verification:
    """The whole chain and every checkpoint, checked against the service's public key, in
    constant memory whatever the archive's size: a large archive in `workers` position
    ranges at once, and in one pass when it is small or the ranges find it broken (the one
    pass names the first break)."""
    public_key = private_key.public_key()
    async with uow:
        store = ArchiveStore(uow.session)
        checkpoints = await store.checkpoints()
        head, _ = await store.head()
        if workers > 1 and head >= parallel_from:
            joined = await verify_in_ranges(store.dsn(), head, checkpoints, public_key, workers)
            if joined is not None:
                return joined
        return await store.consume(lambda entries: verify(entries, checkpoints, public_key))


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


def public_key_id(private_key: Ed25519PrivateKey) -> str:
    return key_id(private_key.public_key())
