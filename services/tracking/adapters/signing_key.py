"""tracking's Ed25519 signing key: read from a file, made on first start when missing.

In production the file is a mounted secret; on one machine it lives with the stack's data.
Only the private key signs checkpoints; auditors get the public key and verify offline.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.tracking.domain.archive import generate_private_key, load_private_key, private_key_pem


def load_or_create(path: Path) -> Ed25519PrivateKey:
    if path.exists():
        return load_private_key(path.read_bytes())
    key = generate_private_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written under a temporary name and renamed: two instances starting together keep one key.
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_bytes(private_key_pem(key))
    temporary.chmod(0o600)
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    return load_private_key(path.read_bytes())
