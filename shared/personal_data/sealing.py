"""One value sealed under one request's data key: AES-256-GCM, self-describing JSON.

A sealed value is stored as `{"alg": "A256GCM", "key_id": ..., "sealed": <base64>}`, where
`sealed` is the 96-bit nonce followed by the ciphertext and its tag. Once made it never
changes, so the canonical bytes of an event holding it, and the hashes over them, are
stable. The associated data binds the ciphertext to its key id and to the field it was
sealed for: a sealed value moved to another request or another field does not open.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, ConfigDict, Field

ALGORITHM = "A256GCM"
_NONCE_BYTES = 12
KEY_BYTES = 32


class SealingError(ValueError):
    """A sealed value that does not open with the key given (wrong key, field or bytes)."""


@dataclass(frozen=True)
class DataKey:
    """A request's data key. `material` never leaves the process unwrapped."""

    key_id: str
    material: bytes = field(repr=False)

    @classmethod
    def generate(cls, key_id: str) -> DataKey:
        return cls(key_id, AESGCM.generate_key(bit_length=KEY_BYTES * 8))


class SealedValue(BaseModel):
    """A personal value sealed under the data key `key_id` (AES-256-GCM)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    alg: Literal["A256GCM"] = Field(description="AES-256-GCM.")
    key_id: str = Field(min_length=1, max_length=64, description="The request's data key.")
    sealed: str = Field(
        min_length=1,
        max_length=200_000,
        description="Base64 of the 96-bit nonce, the ciphertext and its tag.",
    )


def seal(value: Any, key: DataKey, label: str) -> SealedValue:
    """`value` (anything JSON can hold) sealed under `key` for the field `label`."""
    nonce = os.urandom(_NONCE_BYTES)
    plaintext = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    ciphertext = AESGCM(key.material).encrypt(nonce, plaintext, _associated(key.key_id, label))
    return SealedValue(
        alg=ALGORITHM, key_id=key.key_id, sealed=base64.b64encode(nonce + ciphertext).decode()
    )


def unseal(sealed: SealedValue, key: DataKey, label: str) -> Any:
    """The value `seal(value, key, label)` sealed, or `SealingError`."""
    if sealed.key_id != key.key_id:
        raise SealingError(f"sealed under key {sealed.key_id}, not {key.key_id}")
    try:
        raw = base64.b64decode(sealed.sealed, validate=True)
        nonce, ciphertext = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
        plaintext = AESGCM(key.material).decrypt(nonce, ciphertext, _associated(key.key_id, label))
    except (InvalidTag, ValueError) as exc:
        raise SealingError(f"a value sealed under key {key.key_id} does not open") from exc
    return orjson.loads(plaintext)


def _associated(key_id: str, label: str) -> bytes:
    return f"mla-personal-data/v1|{key_id}|{label}".encode()
