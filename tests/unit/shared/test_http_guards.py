"""What a caller meets at the door of every service: size and rate limits, errors that tell
nothing of the internals, and headers that keep a browser from misusing an answer."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import sqlalchemy.exc
from fastapi import FastAPI

from shared.http import create_app, operations_router
from shared.rate_limit import RateLimiter
from shared.settings import ServiceSettings

SQL = "SELECT secret_column FROM requests WHERE id = $1"


def an_app(**settings: Any) -> FastAPI:
    app = create_app(
        title="t", description="d", lifespan=None, settings=ServiceSettings(**settings)
    )
    app.include_router(operations_router({}))

    @app.post("/v1/echo")
    async def echo(body: dict[str, str]) -> dict[str, str]:
        return body

    @app.get("/v1/broken")
    async def broken() -> None:
        raise sqlalchemy.exc.ProgrammingError(SQL, {"id": "Dragan Example"}, Exception("boom"))

    @app.get("/v1/unavailable")
    async def unavailable() -> None:
        raise asyncpg.exceptions.InterfaceError("connection is closed")

    return app


def client(*, raise_app_exceptions: bool = False, **settings: Any) -> httpx.AsyncClient:
    app = an_app(**settings)
    transport = httpx.ASGITransport(app, raise_app_exceptions=raise_app_exceptions)
    return httpx.AsyncClient(transport=transport, base_url="http://service")


async def test_a_body_announced_larger_than_the_limit_is_refused_unread_with_a_problem() -> None:
    response = await client(max_body_bytes=1024).post("/v1/echo", json={"text": "x" * 2000})

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert "1024 bytes" in response.json()["detail"]


async def test_a_chunked_body_is_cut_off_as_soon_as_it_passes_the_limit() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"text": "'
        for _ in range(10):
            yield b"x" * 500
        yield b'"}'

    response = await client(max_body_bytes=1024).post(
        "/v1/echo", content=chunks(), headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert response.json()["title"] == "Content too large"


async def test_a_body_within_the_limit_is_served() -> None:
    response = await client(max_body_bytes=1024).post("/v1/echo", json={"a": "b"})

    assert response.json() == {"a": "b"}


async def test_a_client_past_its_burst_gets_429_with_retry_after_and_the_probes_still_answer() -> (
    None
):
    limited = client(rate_limit_per_second=0.5, rate_limit_burst=2)

    statuses = [(await limited.post("/v1/echo", json={})).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    refused = await limited.post("/v1/echo", json={})
    assert refused.headers["Retry-After"] == "2"
    assert refused.headers["content-type"] == "application/problem+json"
    assert (await limited.get("/health/live")).status_code == 200


def test_a_bucket_refills_with_time_and_each_client_has_its_own() -> None:
    now = [0.0]
    limiter = RateLimiter(per_second=1, burst=1, clock=lambda: now[0])

    assert (limiter.take("ip:a"), limiter.take("ip:b")) == (0, 0)
    assert limiter.take("ip:a") == 1.0
    now[0] = 1.0
    assert limiter.take("ip:a") == 0


async def test_a_database_error_is_a_500_problem_without_sql_trace_or_data() -> None:
    response = await client().get("/v1/broken", headers={"X-Correlation-ID": "case-42"})

    assert response.status_code == 500
    problem = response.json()
    assert problem["type"].endswith("/internal-error")
    assert problem["correlation_id"] == "case-42"
    assert response.headers["X-Correlation-ID"] == "case-42"
    for leak in ("SELECT", "secret_column", "Dragan", "Traceback", "ProgrammingError", "boom"):
        assert leak not in response.text


async def test_a_lost_database_connection_is_a_503_to_retry_and_is_handled_not_raised() -> None:
    # Raised again after the answer, the error would reach the server, which logs it with
    # its whole traceback for every request of an outage: the client here would see it.
    service = client(raise_app_exceptions=True)

    response = await service.get("/v1/unavailable", headers={"X-Correlation-ID": "case-43"})

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.headers["X-Correlation-ID"] == "case-43"
    assert "connection is closed" not in response.text


async def test_a_correlation_id_that_could_forge_a_log_line_is_replaced() -> None:
    forged = "ok} {event: forged " * 20
    response = await client().get("/health/live", headers={"X-Correlation-ID": forged})

    assert response.headers["X-Correlation-ID"] != forged
    assert len(response.headers["X-Correlation-ID"]) == 36


async def test_every_answer_carries_the_security_headers_even_a_failure() -> None:
    service = client()
    for response in (
        await service.get("/health/live"),
        await service.get("/v1/nowhere"),
        await service.get("/v1/broken"),
        await client(max_body_bytes=1024).post("/v1/echo", json={"t": "x" * 2000}),
    ):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Cache-Control"] == "no-store"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def _policy(response: httpx.Response) -> dict[str, str]:
    return dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["Content-Security-Policy"].split(";")
    )


async def test_the_docs_page_allows_its_own_inline_script_by_hash_only() -> None:
    response = await client().get("/docs")

    policy = _policy(response)
    assert response.status_code == 200
    assert "'sha256-" in policy["script-src"]
    assert "unsafe-inline" not in policy["script-src"]
    assert policy["connect-src"] == "'self'"


async def test_the_docs_pages_load_nothing_from_outside_the_service() -> None:
    # On a network closed to the internet the pages must still work: every script, style
    # and icon they name is served by the service itself, and their policies allow no other
    # origin.
    service = client()
    for page in ("/docs", "/redoc"):
        response = await service.get(page)
        loaded = re.findall(r'(?:src|href)="([^"]+)"', response.text)

        assert loaded, page
        assert all(url.startswith("/docs/assets/") for url in loaded), loaded
        assert "http" not in response.headers["Content-Security-Policy"], page
        for url in loaded:
            asset = await service.get(url)
            assert asset.status_code == 200, url
            assert asset.headers["content-type"].split(";")[0] in (
                "text/javascript",
                "text/css",
                "image/png",
            )
            assert b"https://cdn." not in asset.content, url
            assert len(asset.content) > 500, url
    assert (await service.get("/docs/assets/..%2Fsettings.py")).status_code == 404
    assert (await service.get("/docs/assets/swagger-ui.js.map")).status_code == 404


async def test_the_docs_pages_follow_the_prefix_a_proxy_serves_the_service_under() -> None:
    transport = httpx.ASGITransport(an_app(), root_path="/intake")
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        page = (await http.get("/docs")).text

    assert '"/intake/docs/assets/swagger-ui-bundle.js"' in page
    assert "'/intake/openapi.json'" in page or '"/intake/openapi.json"' in page


async def test_cross_origin_browsers_are_refused_unless_an_origin_is_configured() -> None:
    preflight = {"Origin": "https://dashboard.example", "Access-Control-Request-Method": "POST"}

    closed = await client().options("/v1/echo", headers=preflight)
    opened = await client(cors_allowed_origins="https://dashboard.example").options(
        "/v1/echo", headers=preflight
    )

    assert "access-control-allow-origin" not in closed.headers
    assert opened.headers["access-control-allow-origin"] == "https://dashboard.example"


async def test_the_openapi_document_describes_refusals_as_problems() -> None:
    document = (await client().get("/openapi.json")).json()

    responses = document["paths"]["/v1/echo"]["post"]["responses"]
    assert set(responses) >= {"413", "422", "429"}
    assert json.dumps(responses["422"]).count("application/problem+json") == 1
    assert "HTTPValidationError" not in json.dumps(document)


async def test_a_nul_character_is_refused_before_it_reaches_the_database() -> None:
    service = client()

    in_body = await service.post("/v1/echo", json={"note": "a\x00b"})
    in_query = await service.get("/health/live?q=a%00b")
    escaped_backslash = await service.post(
        "/v1/echo",
        content=b'{"note": "a\\\\u0000"}',
        headers={"Content-Type": "application/json"},
    )

    assert (in_body.status_code, in_query.status_code) == (422, 422)
    assert "NUL" in in_body.json()["detail"]
    assert escaped_backslash.json() == {"note": "a\\u0000"}
