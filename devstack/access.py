"""Access on one machine: the shared token key, made on the first `make run` and kept with
the data (`.stack/keys/auth-shared.key`), and a ready-made token per kind of caller."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from devstack.services import SERVICES
from shared.auth.cli import example_principals
from shared.auth.keys import create_shared_key, read_shared_key
from shared.auth.tokens import issue_token

# Long enough for a working day with the stack; `mla-token` issues others.
TOKEN_LIFETIME = timedelta(hours=24)


def ensure_token_key(stack_dir: Path) -> Path:
    """The key file (made when missing), named to every service that has no key of its own."""
    path = stack_dir / "keys" / "auth-shared.key"
    create_shared_key(path)
    for spec in SERVICES:
        os.environ.setdefault(f"{spec.env_prefix}AUTH_SHARED_KEY_FILE", str(path))
    return path


def example_tokens(key_file: Path) -> dict[str, str]:
    """One token per kind of caller: operator, auditor, admin, an authority, an office."""
    settings = SERVICES[0].settings()
    key = read_shared_key(key_file)
    return {
        name: issue_token(
            key,
            principal,
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
            lifetime=TOKEN_LIFETIME,
        )
        for name, principal in example_principals().items()
    }
