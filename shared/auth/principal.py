"""The caller a verified token names.

Claims (besides the registered `sub`, `iss`, `aud`, `exp`, `iat`):

    scope      space-separated OAuth2 scopes (RFC 9068): what the token may be used for
    roles      a list of department roles: `operator`, `auditor`, `admin`
    authority  the identifier of a requesting authority (a client system or its staff)
    office_id  the id of an executing office, as in the office directory

Unknown roles are ignored rather than refused, so that an identity provider may carry roles
of other systems in the same token.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

# Identifiers are compared and stored as given; a bound keeps a forged token from filling
# a column or a log line.
MAX_IDENTIFIER = 100


class Role(StrEnum):
    OPERATOR = "operator"
    AUDITOR = "auditor"
    ADMIN = "admin"


class ClaimError(ValueError):
    """A claim of the wrong shape: the token is refused as a whole."""


@dataclass(frozen=True)
class Principal:
    subject: str
    scopes: frozenset[str] = frozenset()
    roles: frozenset[Role] = frozenset()
    authority: str | None = None
    office_id: str | None = None

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> Principal:
        """The principal of a token's verified claims (`ClaimError` when one is malformed)."""
        scope = claims.get("scope", "")
        if not isinstance(scope, str):
            raise ClaimError("scope is a space-separated string")
        roles = claims.get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise ClaimError("roles is a list of strings")
        known = {r.value for r in Role}
        return cls(
            subject=_identifier(claims, "sub", required=True) or "",
            scopes=frozenset(scope.split()),
            roles=frozenset(Role(r) for r in roles if r in known),
            authority=_identifier(claims, "authority"),
            office_id=_identifier(claims, "office_id"),
        )

    def claims(self) -> dict[str, Any]:
        """The claims that name this principal (the inverse of `from_claims`)."""
        claims: dict[str, Any] = {"sub": self.subject, "scope": " ".join(sorted(self.scopes))}
        if self.roles:
            claims["roles"] = sorted(self.roles)
        if self.authority:
            claims["authority"] = self.authority
        if self.office_id:
            claims["office_id"] = self.office_id
        return claims


def _identifier(claims: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    value = claims.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_IDENTIFIER:
        raise ClaimError(f"{name} is a non-empty string of at most {MAX_IDENTIFIER} characters")
    return value
