"""The master key (key-encryption key) and the wrapping of data keys under it.

Data keys are stored only wrapped (AES-256-GCM under the master key, the key id as
associated data). The master key lives outside the databases: a file of 32 random bytes,
base64, made by `make run` beside the stack's data, or in production a mounted secret made
once by `python -m shared.personal_data create-master-key PATH` (never overwrites). Its
`kek_id` (a short hash) is stored beside every wrapped key, so a service started with the
wrong master key says so instead of reporting every request as erased.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.personal_data.sealing import KEY_BYTES, DataKey

_NONCE_BYTES = 12


class MasterKeyError(RuntimeError):
    """No usable master key, or a wrapped key that this master key did not wrap."""


@dataclass(frozen=True)
class MasterKey:
    material: bytes = field(repr=False)

    @property
    def kek_id(self) -> str:
        """Names the master key without revealing it."""
        return hashlib.sha256(b"mla-kek|" + self.material).hexdigest()[:16]

    @classmethod
    def generate(cls) -> MasterKey:
        return cls(AESGCM.generate_key(bit_length=KEY_BYTES * 8))

    @classmethod
    def load(cls, path: Path) -> MasterKey:
        """The master key kept at `path`; never made here, because a new master key would
        leave every stored data key unreadable."""
        try:
            material = base64.b64decode(path.read_text().strip(), validate=True)
        except FileNotFoundError as exc:
            raise MasterKeyError(
                f"no personal-data master key at {path}: `make run` makes one for a machine; "
                "elsewhere make it once (`python -m shared.personal_data create-master-key "
                "PATH`) and mount it from a secret"
            ) from exc
        except ValueError as exc:
            raise MasterKeyError(f"{path} does not hold a base64 master key") from exc
        if len(material) != KEY_BYTES:
            raise MasterKeyError(f"{path} holds {len(material)} bytes, not {KEY_BYTES}")
        return cls(material)

    def save(self, path: Path) -> None:
        """Write the key to a new file readable by its owner only."""
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(base64.b64encode(self.material).decode() + "\n")

    def wrap(self, key: DataKey) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + AESGCM(self.material).encrypt(nonce, key.material, key.key_id.encode())

    def unwrap(self, key_id: str, wrapped: bytes) -> DataKey:
        try:
            material = AESGCM(self.material).decrypt(
                wrapped[:_NONCE_BYTES], wrapped[_NONCE_BYTES:], key_id.encode()
            )
        except InvalidTag as exc:
            raise MasterKeyError(f"data key {key_id} was not wrapped by this master key") from exc
        return DataKey(key_id, material)


def ensure_master_key(path: Path) -> bool:
    """Make the master key file unless it exists (the one-machine stack); True when made."""
    if path.exists():
        return False
    MasterKey.generate().save(path)
    return True
