"""Bearer tokens for the tests: one shared key per test process, handed to every service
the tests start (tests/support/stack.py, and apps made in-process), and tokens per role.

    bearer("operator")                              the department's operator
    bearer("authority")                             the example requesting authority
    bearer("authority", authority="fr-pnf")         another one
    bearer("office", office_id="vjt-novi-sad")      an executing office
    bearer("operator", scopes=["requests:read"])    a narrower token
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from shared.auth.cli import principal_of
from shared.auth.principal import Principal
from shared.auth.tokens import issue_token

ISSUER = AUDIENCE = "mla-tracker"
EXAMPLE_AUTHORITY = "si-dsp-ljubljana"
EXAMPLE_OFFICE = "vjt-subotica"
ROLES = ("operator", "auditor", "admin", "authority", "office")


@cache
def stack_key() -> str:
    """The shared key of this test process (made once, random)."""
    return secrets.token_urlsafe(48)


def write_test_key(path: Path) -> Path:
    """The key in a file, as `make run` keeps it, for services started as processes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(stack_key() + "\n")
    path.chmod(0o600)
    return path


def principal(role: str, **claims: Any) -> Principal:
    """The principal of a role: `operator`, `auditor`, `admin`, `authority`, `office`."""
    scopes = claims.pop("scopes", None)
    if role == "authority":
        return principal_of(
            claims.pop("subject", "authority-client"),
            authority=claims.pop("authority", EXAMPLE_AUTHORITY),
            scopes=scopes,
        )
    if role == "office":
        office = claims.pop("office_id", EXAMPLE_OFFICE)
        return principal_of(claims.pop("subject", office), office_id=office, scopes=scopes)
    return principal_of(claims.pop("subject", role), roles=[role], scopes=scopes)


def token(
    role: str,
    *,
    key: str | None = None,
    lifetime: timedelta = timedelta(hours=1),
    now: datetime | None = None,
    **claims: Any,
) -> str:
    """A signed token for `role` (another `key`, or a past `now`, for the refusals)."""
    return issue_token(
        (key or stack_key()).encode(),
        principal(role, **claims),
        issuer=ISSUER,
        audience=AUDIENCE,
        lifetime=lifetime,
        now=now or datetime.now(UTC),
    )


def bearer(role: str, **claims: Any) -> dict[str, str]:
    """The Authorization header of a token for `role`."""
    return {"Authorization": f"Bearer {token(role, **claims)}"}


def department_bearer() -> dict[str, str]:
    """A token of every department role at once (operator, auditor, admin): for a run that
    explores a whole API rather than one caller's view of it."""
    everyone = principal_of("department", roles=["operator", "auditor", "admin"])
    signed = issue_token(
        stack_key().encode(),
        everyone,
        issuer=ISSUER,
        audience=AUDIENCE,
        lifetime=timedelta(hours=2),
    )
    return {"Authorization": f"Bearer {signed}"}
