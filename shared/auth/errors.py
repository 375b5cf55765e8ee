"""Refusals of access, rendered as problem+json with the RFC 6750 challenge.

ProblemError (shared/problems.py)
 └── AccessError                 carries the `WWW-Authenticate` challenge
      ├── AuthenticationError    401: no token, or one that does not verify
      └── ForbiddenError         403: a valid token without the scope or the role
TokenServiceUnavailableError     503: the key set (JWKS) cannot be fetched now
"""

from __future__ import annotations

from shared.problems import ProblemError

REALM = "mla"


class AccessError(ProblemError):
    def __init__(self, detail: str, *, challenge: str | None = None) -> None:
        super().__init__(detail)
        self.challenge = challenge

    @property
    def www_authenticate(self) -> str:
        return f'Bearer realm="{REALM}"' + (f", {self.challenge}" if self.challenge else "")


class AuthenticationError(AccessError):
    status = 401
    type_ = "unauthenticated"
    title = "Authentication required"


class ForbiddenError(AccessError):
    status = 403
    type_ = "forbidden"
    title = "Forbidden"


class TokenServiceUnavailableError(ProblemError):
    status = 503
    type_ = "token-keys-unavailable"
    title = "Tokens cannot be checked now"
