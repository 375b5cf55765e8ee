"""Signed checkpoints of the archive's head, and the Ed25519 keys that sign them.

Import these names from `services.tracking.domain.archive`, the archive's public face.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from services.tracking.domain.archive_chain import ArchiveFormatError, digest_from_hex

# Versioned so that a later message layout can never be mistaken for this one.
CHECKPOINT_FORMAT = b"mla-archive-checkpoint/v1"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signature over the chain's hash at `position` (0: the empty archive)."""

    position: int
    head_hash: bytes
    signed_at: str  # ISO 8601, UTC, exactly the text that was signed
    key_id: str
    signature: bytes


def checkpoint_message(position: int, head_hash: bytes, signed_at: str) -> bytes:
    """The bytes an Ed25519 checkpoint signature covers:
    `mla-archive-checkpoint/v1\\n{position}\\n{head hash, 64 lower-case hex}\\n{signed_at}`."""
    return b"%s\n%d\n%s\n%s" % (
        CHECKPOINT_FORMAT,
        position,
        head_hash.hex().encode(),
        signed_at.encode(),
    )


def sign_checkpoint(
    private_key: Ed25519PrivateKey, position: int, head_hash: bytes, signed_at: str
) -> Checkpoint:
    """Sign the chain's hash at `position`."""
    signature = private_key.sign(checkpoint_message(position, head_hash, signed_at))
    return Checkpoint(position, head_hash, signed_at, key_id(private_key.public_key()), signature)


def signature_valid(checkpoint: Checkpoint, public_key: Ed25519PublicKey) -> bool:
    """Whether the checkpoint was signed by the private half of `public_key`."""
    message = checkpoint_message(checkpoint.position, checkpoint.head_hash, checkpoint.signed_at)
    try:
        public_key.verify(checkpoint.signature, message)
    except InvalidSignature:
        return False
    return True


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short fingerprint of a public key: the first 16 hex digits of the SHA-256 of its
    32 raw bytes. An auditor compares it with the one published out of band."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def generate_private_key() -> Ed25519PrivateKey:
    """A new signing key."""
    return Ed25519PrivateKey.generate()


def private_key_pem(private_key: Ed25519PrivateKey) -> bytes:
    """The private key as unencrypted PKCS#8 PEM (protect the file, not the text)."""
    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """The public key (of a private key, or itself) as SubjectPublicKeyInfo PEM."""
    public_key = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_private_key(pem: bytes) -> Ed25519PrivateKey:
    """An Ed25519 private key from unencrypted PEM."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ArchiveFormatError(f"not a PEM private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ArchiveFormatError(f"not an Ed25519 private key but {type(key).__name__}")
    return key


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM."""
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise ArchiveFormatError(f"not a PEM public key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ArchiveFormatError(f"not an Ed25519 public key but {type(key).__name__}")
    return key


def checkpoint_to_document(checkpoint: Checkpoint) -> dict[str, Any]:
    """The checkpoint as JSON-ready data (bytes in hex)."""
    return {
        "position": checkpoint.position,
        "head_hash": checkpoint.head_hash.hex(),
        "signed_at": checkpoint.signed_at,
        "key_id": checkpoint.key_id,
        "signature": checkpoint.signature.hex(),
    }


def checkpoint_from_document(document: Mapping[str, Any]) -> Checkpoint:
    """The inverse of `checkpoint_to_document`, or `ArchiveFormatError` naming the field."""
    position, signed_at = document.get("position"), document.get("signed_at")
    key, signature = document.get("key_id"), document.get("signature")
    if type(position) is not int or position < 0:
        raise ArchiveFormatError(f"checkpoint position must be an integer from 0: {position!r}")
    if not isinstance(signed_at, str) or not isinstance(key, str):
        raise ArchiveFormatError("checkpoint signed_at and key_id must be strings")
    try:
        signature_bytes = bytes.fromhex(signature) if isinstance(signature, str) else None
    except ValueError:
        signature_bytes = None
    if signature_bytes is None:
        raise ArchiveFormatError(f"checkpoint signature must be hex, not {signature!r}")
    head_hash = digest_from_hex(document.get("head_hash"), "checkpoint head_hash")
    return Checkpoint(position, head_hash, signed_at, key, signature_bytes)
