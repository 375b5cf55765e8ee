"""Bearer tokens: verified with a shared HS256 key (one machine, tests) or against the
identity provider's key set (JWKS, production); issued with the shared key by `mla-token`.

A token must name its issuer and audience, a subject and an expiry; anything else about it
that fails is the same 401 to the caller (the detail says which check failed, never the
token). Fetching a JWKS is blocking I/O, so it runs on a worker thread, and PyJWKClient
caches the keys so that a fetch happens when a new key id appears, not per request.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import jwt

from shared.auth.errors import AuthenticationError, TokenServiceUnavailableError
from shared.auth.principal import ClaimError, Principal

SHARED_KEY_ALGORITHM = "HS256"
# Asymmetric algorithms accepted from a JWKS; `none` and HMAC never are (a public key must
# not double as an HMAC secret).
JWKS_ALGORITHMS = ("RS256", "PS256", "ES256", "EdDSA")
REQUIRED_CLAIMS = ["exp", "iat", "sub", "iss", "aud"]
# Clocks of the issuer and the services may differ this much.
LEEWAY = timedelta(seconds=30)


class TokenVerifier(Protocol):
    async def verify(self, token: str) -> Principal: ...


class SharedKeyVerifier:
    """Tokens signed with the key the services share (HS256)."""

    def __init__(self, key: bytes, *, issuer: str, audience: str) -> None:
        self._key = key
        self._issuer = issuer
        self._audience = audience

    async def verify(self, token: str) -> Principal:
        return _principal(token, self._key, [SHARED_KEY_ALGORITHM], self._issuer, self._audience)


class JwksVerifier:
    """Tokens of an identity provider, checked against the keys its JWKS URL publishes."""

    def __init__(self, url: str, *, issuer: str, audience: str) -> None:
        self._client = jwt.PyJWKClient(url, cache_keys=True, lifespan=300, timeout=5)
        self._issuer = issuer
        self._audience = audience

    async def verify(self, token: str) -> Principal:
        try:
            signing_key = await asyncio.to_thread(self._client.get_signing_key_from_jwt, token)
        except jwt.PyJWKClientConnectionError as exc:
            raise TokenServiceUnavailableError(
                "the identity provider's keys could not be fetched; retry shortly"
            ) from exc
        except (jwt.PyJWKClientError, jwt.InvalidTokenError) as exc:
            raise _refused(f"no key of the identity provider signed it ({exc})") from exc
        return _principal(
            token, signing_key.key, list(JWKS_ALGORITHMS), self._issuer, self._audience
        )


class RememberingVerifier:
    """`verifier`, remembering the tokens it accepted. A client sends the same token with
    every call for as long as it lives, and checking its signature again each time was a
    twentieth of intake's CPU under load (a JWKS verifier also hands each check to a
    thread). A remembered token is taken until it expires or for `seconds`, whichever comes
    first: a key the identity provider withdraws stops its tokens within that time. Only
    tokens that verified are remembered; a refusal is checked afresh every time."""

    def __init__(
        self,
        verifier: TokenVerifier,
        *,
        seconds: float = 60,
        size: int = 4096,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._verifier = verifier
        self._seconds = seconds
        self._size = size
        self._clock = clock
        self._known: dict[str, tuple[Principal, float]] = {}

    async def verify(self, token: str) -> Principal:
        now = self._clock()
        known = self._known.get(token)
        if known is not None:
            principal, until = known
            if now < until:
                return principal
            del self._known[token]
        principal = await self._verifier.verify(token)
        # Verified just now, so its claims are sound; only the expiry is read from them.
        expires = jwt.decode(token, options={"verify_signature": False})["exp"]
        self._known[token] = (
            principal,
            min(float(expires) + LEEWAY.total_seconds(), now + self._seconds),
        )
        if len(self._known) > self._size:
            del self._known[next(iter(self._known))]  # the longest remembered
        return principal


def issue_token(
    key: bytes,
    principal: Principal,
    *,
    issuer: str,
    audience: str,
    lifetime: timedelta,
    now: datetime | None = None,
) -> str:
    """A token for `principal`, signed with the shared key."""
    issued = now or datetime.now(UTC)
    claims: dict[str, Any] = {
        **principal.claims(),
        "iss": issuer,
        "aud": audience,
        "iat": issued,
        "exp": issued + lifetime,
        "jti": str(uuid.uuid4()),
    }
    return jwt.encode(claims, key, algorithm=SHARED_KEY_ALGORITHM)


def _principal(
    token: str, key: Any, algorithms: list[str], issuer: str, audience: str
) -> Principal:
    try:
        claims: Mapping[str, Any] = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            issuer=issuer,
            audience=audience,
            leeway=LEEWAY,
            options={"require": REQUIRED_CLAIMS},
        )
        return Principal.from_claims(claims)
    except jwt.ExpiredSignatureError as exc:
        raise _refused("the token has expired") from exc
    except jwt.InvalidTokenError as exc:
        raise _refused(f"the token is not valid: {exc}") from exc
    except ClaimError as exc:
        raise _refused(f"the token's claims are malformed: {exc}") from exc


def _refused(why: str) -> AuthenticationError:
    return AuthenticationError(why, challenge=f'error="invalid_token", error_description="{why}"')
