"""tracking's verifiable archive: every consumed event, hash-chained, with signed heads.

Entry n (counting from 1) holds the canonical bytes of one CloudEvent (`canonical_bytes`)
and `hash = SHA-256(hash of entry n-1 || body)`, the hash before entry 1 being `GENESIS`
(32 zero bytes). A checkpoint is an Ed25519 signature over the hash at one position
(`checkpoint_message`). Changing, removing, inserting or reordering an entry breaks the
chain at that place; recomputing every later hash to hide it changes the head, which a
checkpoint signed earlier no longer matches. `verify` names the first such break.

The export is NDJSON, one `entry_to_line` per entry; checkpoints travel as the JSON of
`checkpoint_to_document` and the public key as PEM, so that an auditor can verify offline
with nothing but this module (or a reimplementation of the rules written here).

This module is the public face; the parts live in `archive_chain` (canonical form, chain,
export lines), `archive_checkpoints` (signatures and keys), `archive_verification` (the walk) and
`archive_breaks` (naming what broke).
"""

from services.tracking.domain.archive_breaks import Problem, ProblemKind
from services.tracking.domain.archive_chain import (
    GENESIS,
    ArchiveFormatError,
    Entry,
    canonical_bytes,
    chain_hash,
    entry_from_line,
    entry_to_line,
)
from services.tracking.domain.archive_checkpoints import (
    CHECKPOINT_FORMAT,
    Checkpoint,
    checkpoint_from_document,
    checkpoint_message,
    checkpoint_to_document,
    generate_private_key,
    key_id,
    load_private_key,
    load_public_key,
    private_key_pem,
    public_key_pem,
    sign_checkpoint,
    signature_valid,
)
from services.tracking.domain.archive_verification import Verification, verify

__all__ = [
    "CHECKPOINT_FORMAT",
    "GENESIS",
    "ArchiveFormatError",
    "Checkpoint",
    "Entry",
    "Problem",
    "ProblemKind",
    "Verification",
    "canonical_bytes",
    "chain_hash",
    "checkpoint_from_document",
    "checkpoint_message",
    "checkpoint_to_document",
    "entry_from_line",
    "entry_to_line",
    "generate_private_key",
    "key_id",
    "load_private_key",
    "load_public_key",
    "private_key_pem",
    "public_key_pem",
    "sign_checkpoint",
    "signature_valid",
    "verify",
]
