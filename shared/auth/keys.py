"""The shared HS256 key: made once (by `make run` or the test stack), kept in a file only
its owner can read, and read by every service and by `mla-token`."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

# RFC 7518 §3.2: an HS256 key of at least the hash's size (32 bytes).
MIN_KEY_BYTES = 32


class SharedKeyError(RuntimeError):
    """No usable shared key where the settings say it is."""


def create_shared_key(path: Path) -> bool:
    """Write a new random key at `path` unless one is there; True when it was made."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(secrets.token_urlsafe(48) + "\n")
    return True


def shared_key(value: str) -> bytes:
    """The key as bytes, refused when too short to be safe."""
    key = value.strip().encode()
    if len(key) < MIN_KEY_BYTES:
        raise SharedKeyError(f"the shared token key must have at least {MIN_KEY_BYTES} bytes")
    return key


def read_shared_key(path: Path) -> bytes:
    """The key kept at `path`."""
    try:
        return shared_key(path.read_text())
    except FileNotFoundError:
        raise SharedKeyError(
            f"no shared token key at {path}: `make run` makes one, or set the service's "
            "AUTH_SHARED_KEY, AUTH_SHARED_KEY_FILE or AUTH_JWKS_URL"
        ) from None
