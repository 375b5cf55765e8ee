"""How many requests one client may make: a token bucket per client, 429 beyond it.

Each client has a bucket of `burst` tokens that refills at `per_second`; a request takes one
token, and a request finding the bucket empty is refused with 429 and `Retry-After` (the
seconds until a token is back). The health probes are never limited: an orchestrator that
cannot probe would restart a service that is merely busy.

Who is a client, and where its token is taken:

- A caller with a bearer token is the principal the token names (its subject), once the
  token is verified: the auth dependency (shared/auth/dependencies.py) calls
  `limit_principal` right after verifying it, before the access rule is checked. A token's
  subject is never read before that, or a caller could pick any subject it liked and spread
  its load over buckets of its own. So principals behind one address (a gateway, a NAT, the
  dashboard's server) each have their own allowance.
- A caller without a token (the open pages, or a call about to be refused with 401) is its
  peer address, limited by `RateLimitMiddleware` at the same allowance.
- Every call that carries credentials is also counted per peer address, by the middleware,
  against a much larger allowance: forged tokens, or many tokens from one place, cannot
  flood a process even though each is refused or has its own bucket.

A principal's allowance is one for all the instances of a service: kept in the service's
database and taken in small leases (shared/rate_allowance.py). The per-address buckets live
in the memory of one instance (N instances allow N times their rate, and a restart forgets
them): they protect one process from one flood, which is each process's own business.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.problems import ProblemError, problem_response

if TYPE_CHECKING:
    from shared.rate_allowance import SharedRateLimiter

UNLIMITED_PREFIXES = ("/health/",)
# Beyond this many clients the least recently seen bucket is forgotten, so that a flood from
# many addresses cannot grow the process without bound (a forgotten client starts full).
MAX_CLIENTS = 10_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets, one per client key, refilled at `per_second` up to `burst`."""

    def __init__(
        self,
        per_second: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = MAX_CLIENTS,
    ) -> None:
        self.per_second = per_second
        self.burst = burst
        self._clock = clock
        self._max_clients = max_clients
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, key: str) -> float:
        """Take one token for `key`: 0 when granted, else the seconds until one is back."""
        now = self._clock()
        bucket = self._buckets.pop(key, None) or _Bucket(float(self.burst), now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.per_second)
        bucket.updated = now
        self._buckets[key] = bucket  # most recently seen last
        if len(self._buckets) > self._max_clients:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.per_second


def principal_key(principal: Any) -> str | None:
    """The bucket key of an authenticated principal: its subject (`subject` or `sub`)."""
    if principal is None:
        return None
    subject = getattr(principal, "subject", None) or getattr(principal, "sub", None)
    if subject is None and isinstance(principal, dict):
        subject = principal.get("subject") or principal.get("sub")
    return f"principal:{subject}" if subject else None


def address_key(scope: Scope) -> str:
    """The bucket key of the peer address."""
    client = scope.get("client")
    return f"ip:{client[0] if client else 'unknown'}"


def retry_after_seconds(wait: float) -> int:
    """`Retry-After` in whole seconds, never 0 (a client would retry at once)."""
    return max(1, math.ceil(wait))


def _detail(who: str, limiter: RateLimiter | SharedRateLimiter, retry_after: int) -> str:
    return (
        f"{who} sent more than {limiter.per_second:g} requests a second "
        f"(bursts of {limiter.burst}); retry after {retry_after} s."
    )


class TooManyRequestsError(ProblemError):
    """429: the principal's bucket is empty; `Retry-After` says when a token is back."""

    status = 429
    type_ = "too-many-requests"
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.headers["Retry-After"] = str(retry_after)


# Where create_app keeps the principals' buckets for the auth dependency to take from.
PRINCIPAL_LIMITER_STATE = "principal_rate_limiter"


async def limit_principal(request: Request, principal: Any) -> None:
    """Take one token from the allowance of the principal a verified token names, or
    refuse the request with 429 (`TooManyRequestsError`). Once per request, however many of
    its dependencies verify the token; a no-op where the app keeps no principal limiter."""
    limiter: SharedRateLimiter | None = getattr(request.app.state, PRINCIPAL_LIMITER_STATE, None)
    key = principal_key(principal)
    if limiter is None or key is None or getattr(request.state, "rate_limited_as", None) == key:
        return
    request.state.rate_limited_as = key
    wait = await limiter.take(key)
    if wait:
        retry_after = retry_after_seconds(wait)
        raise TooManyRequestsError(
            _detail("This principal", limiter, retry_after), retry_after=retry_after
        )


class RateLimitMiddleware:
    """Refuse a call with 429 while its peer address's bucket is empty: `anonymous` for a
    call without credentials, `credentialed` for one with an `Authorization` header (whose
    principal's own bucket is the auth dependency's business). None: not limited here."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        anonymous: RateLimiter | None = None,
        credentialed: RateLimiter | None = None,
    ) -> None:
        self.app = app
        self.anonymous = anonymous
        self.credentialed = credentialed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(UNLIMITED_PREFIXES):
            await self.app(scope, receive, send)
            return
        has_credentials = any(name == b"authorization" for name, _ in scope["headers"])
        limiter = self.credentialed if has_credentials else self.anonymous
        if limiter is None or not (wait := limiter.take(address_key(scope))):
            await self.app(scope, receive, send)
            return
        retry_after = retry_after_seconds(wait)
        who = "This address" if has_credentials else "This client"
        response = problem_response(
            429,
            TooManyRequestsError.type_,
            TooManyRequestsError.title,
            _detail(who, limiter, retry_after),
            Request(scope),
        )
        response.headers["Retry-After"] = str(retry_after)
        await response(scope, receive, send)
