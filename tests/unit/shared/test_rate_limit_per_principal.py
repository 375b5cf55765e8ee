"""Each authenticated principal spends its own allowance, whichever address it calls from.

The principal is known only once its token is verified (the auth dependency, after every
middleware), so that is where its bucket is taken from. The middleware keeps the peer
address's buckets: the per-client allowance for calls without a token, and a coarse guard for
calls with one. The health probes are never limited.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from shared.auth import Action, authorize
from shared.auth.cli import principal_of
from shared.auth.dependencies import install_auth
from shared.auth.tokens import SharedKeyVerifier, issue_token
from shared.http import create_app, operations_router
from shared.settings import ServiceSettings

KEY = secrets.token_urlsafe(48).encode()
ISSUER = AUDIENCE = "mla-tracker"


def token(subject: str) -> str:
    return issue_token(
        KEY,
        principal_of(subject, roles=["operator"]),
        issuer=ISSUER,
        audience=AUDIENCE,
        lifetime=timedelta(minutes=5),
    )


def bearer(subject: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(subject)}"}


def an_app(**settings: Any) -> FastAPI:
    app = create_app(
        title="t", description="d", lifespan=None, settings=ServiceSettings(**settings)
    )
    install_auth(app, SharedKeyVerifier(KEY, issuer=ISSUER, audience=AUDIENCE))
    app.include_router(operations_router({}))

    # Two rules on one route: the principal still takes one token per request, not two.
    @app.get("/v1/thing", dependencies=[authorize(Action.READ_METRICS)])
    async def thing(_: Any = authorize(Action.READ_METRICS)) -> dict[str, str]:
        return {"ok": "yes"}

    @app.post("/v1/open")
    async def open_route() -> dict[str, str]:
        return {"ok": "yes"}

    return app


def client(app: FastAPI, address: str = "203.0.113.7") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app, raise_app_exceptions=False, client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://service")


async def statuses(http: httpx.AsyncClient, headers: dict[str, str], times: int) -> list[int]:
    return [(await http.get("/v1/thing", headers=headers)).status_code for _ in range(times)]


async def test_two_principals_behind_one_address_each_have_their_own_bucket() -> None:
    http = client(an_app(rate_limit_per_second=0.5, rate_limit_burst=2))
    ana, ivan = bearer("ana"), bearer("ivan")

    assert await statuses(http, ana, 3) == [200, 200, 429]
    # Same address, another principal: untouched by ana's spending.
    assert await statuses(http, ivan, 2) == [200, 200]
    assert await statuses(http, ivan, 1) == [429]


async def test_a_principal_is_one_client_from_any_address() -> None:
    app = an_app(rate_limit_per_second=0.5, rate_limit_burst=2)
    ana = bearer("ana")

    assert await statuses(client(app, "198.51.100.1"), ana, 2) == [200, 200]
    assert await statuses(client(app, "198.51.100.2"), ana, 1) == [429]


async def test_a_principal_over_its_limit_gets_a_429_problem_with_retry_after() -> None:
    http = client(an_app(rate_limit_per_second=0.5, rate_limit_burst=1))
    ana = bearer("ana")
    await http.get("/v1/thing", headers=ana)

    refused = await http.get("/v1/thing", headers=ana)

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "2"
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["type"].endswith("/too-many-requests")
    assert problem["status"] == 429
    assert "principal" in problem["detail"]
    assert refused.headers["X-Content-Type-Options"] == "nosniff", "a refusal like any other"


async def test_a_token_that_does_not_verify_spends_no_principals_allowance() -> None:
    http = client(an_app(rate_limit_per_second=0.5, rate_limit_burst=1))
    forged = {"Authorization": "Bearer " + token("ana")[:-4] + "AAAA"}

    assert await statuses(http, forged, 3) == [401, 401, 401]
    assert await statuses(http, bearer("ana"), 1) == [200]


async def test_calls_with_tokens_are_also_bounded_per_address_whatever_they_name() -> None:
    app = an_app(
        rate_limit_per_second=100,
        rate_limit_burst=100,
        rate_limit_per_address_per_second=0.5,
        rate_limit_per_address_burst=3,
    )
    http = client(app)

    codes = [(await http.get("/v1/thing", headers=bearer(f"p{n}"))).status_code for n in range(4)]

    assert codes == [200, 200, 200, 429]
    refused = await http.get("/v1/thing", headers=bearer("another"))
    assert refused.headers["Retry-After"] == "2"
    elsewhere = await client(app, "192.0.2.9").get("/v1/thing", headers=bearer("x"))
    assert elsewhere.status_code == 200, "another address has its own guard"


async def test_a_call_without_a_token_is_limited_by_its_address() -> None:
    http = client(an_app(rate_limit_per_second=0.5, rate_limit_burst=2))

    codes = [(await http.post("/v1/open", json={})).status_code for _ in range(3)]

    assert codes == [200, 200, 429]
    # The anonymous bucket of the address is not the principals' allowance.
    assert await statuses(http, bearer("ana"), 1) == [200]


async def test_the_health_probes_are_never_limited() -> None:
    app = an_app(
        rate_limit_per_second=0.5,
        rate_limit_burst=1,
        rate_limit_per_address_per_second=0.5,
        rate_limit_per_address_burst=1,
    )
    http = client(app)
    ana = bearer("ana")
    await http.get("/v1/thing", headers=ana)
    await http.post("/v1/open", json={})

    for path in ("/health/live", "/health/ready"):
        for headers in ({}, ana):
            responses = [(await http.get(path, headers=headers)).status_code for _ in range(5)]
            assert responses == [200] * 5, (path, headers)


async def test_limits_set_to_zero_limit_nothing() -> None:
    http = client(an_app(rate_limit_per_second=0, rate_limit_per_address_per_second=0))

    assert await statuses(http, bearer("ana"), 20) == [200] * 20
    assert {(await http.post("/v1/open", json={})).status_code for _ in range(20)} == {200}
