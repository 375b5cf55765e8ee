"""Every endpoint of every service refuses a caller without a valid token (401, with the
Bearer challenge) and one without the scope or the role its rule asks for (403).

The endpoints are enumerated from each app's routes, so an endpoint added later is in the
matrix at once; one that declares no access rule fails `test_every_route_declares_...` (and
the app refuses to build). The apps run in-process without their lifespan: the refusal
comes before any database is touched. Another authority's or office's resources (404) are
in tests/e2e/test_access.py, against the running stack.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from shared.auth import routes_without_rule
from shared.auth.cli import principal_of
from shared.auth.dependencies import OPEN_PATHS
from shared.auth.policy import RULES, Action, Party, Scope
from shared.auth.principal import Principal
from shared.auth.tokens import issue_token
from tests.support.auth import AUDIENCE, ISSUER, stack_key, token
from tests.support.routes import SERVICES, action, endpoints, service_app

PARTIES: dict[Party, Principal] = {
    Party.AUTHORITY: principal_of("cases-si", authority="si-dsp-ljubljana"),
    Party.OFFICE: principal_of("vjt-subotica", office_id="vjt-subotica"),
    Party.OPERATOR: principal_of("ana", roles=["operator"]),
    Party.AUDITOR: principal_of("ivan", roles=["auditor"]),
    Party.ADMIN: principal_of("root", roles=["admin"]),
}
ENDPOINTS = list(endpoints())


async def call(service: str, method: str, path: str, bearer_token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {bearer_token}"} if bearer_token else {}
    url = re.sub(r"\{[^}]+\}", "x1", path)
    body = {} if method in {"POST", "PUT", "PATCH"} else None
    transport = httpx.ASGITransport(app=service_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as http:
        return await http.request(method, url, headers=headers, json=body)


def signed(principal: Principal, scopes: frozenset[str]) -> str:
    narrowed = Principal(
        principal.subject, scopes, principal.roles, principal.authority, principal.office_id
    )
    return issue_token(
        stack_key().encode(),
        narrowed,
        issuer=ISSUER,
        audience=AUDIENCE,
        lifetime=timedelta(minutes=5),
    )


def assert_refused(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == status
    if status == 401:
        assert response.headers["www-authenticate"].startswith('Bearer realm="mla"')


@pytest.mark.parametrize("service", SERVICES)
def test_every_route_declares_an_access_rule_or_is_open(service: str) -> None:
    assert routes_without_rule(service_app(service)) == []
    assert {
        "/health/live",
        "/health/ready",
        "/docs",
        "/redoc",
        "/docs/assets/{name}",
    } == OPEN_PATHS


def test_the_matrix_covers_every_service_and_every_action() -> None:
    assert {service for service, _, _ in ENDPOINTS} == set(SERVICES)
    assert {action(*endpoint) for endpoint in ENDPOINTS} == set(Action) - _unused_actions()


def _unused_actions() -> set[Action]:
    # Actions no route of these four apps declares (none today); listed here on purpose.
    return set()


@pytest.mark.parametrize(("service", "method", "path"), ENDPOINTS)
async def test_no_token_is_a_401_with_the_bearer_challenge(
    service: str, method: str, path: str
) -> None:
    assert_refused(await call(service, method, path, None), 401)


@pytest.mark.parametrize(("service", "method", "path"), ENDPOINTS)
async def test_an_expired_or_foreign_token_is_a_401(service: str, method: str, path: str) -> None:
    expired = token("admin", now=datetime.now(UTC) - timedelta(hours=2))
    foreign = token("admin", key="f" * 48)
    for refused in (expired, foreign, "not-a-jwt"):
        response = await call(service, method, path, refused)
        assert_refused(response, 401)
        assert 'error="invalid_token"' in response.headers["www-authenticate"]


@pytest.mark.parametrize(("service", "method", "path"), ENDPOINTS)
async def test_a_token_without_the_scope_is_a_403(service: str, method: str, path: str) -> None:
    rule = RULES[action(service, method, path)]
    for party in rule.parties:
        others = frozenset(Scope) - {rule.scope}
        response = await call(service, method, path, signed(PARTIES[party], others))
        assert_refused(response, 403)
        assert "insufficient_scope" in response.headers["www-authenticate"]


@pytest.mark.parametrize(("service", "method", "path"), ENDPOINTS)
async def test_a_role_the_rule_does_not_name_is_a_403(service: str, method: str, path: str) -> None:
    rule = RULES[action(service, method, path)]
    for party in set(Party) - rule.parties:
        response = await call(service, method, path, signed(PARTIES[party], frozenset(Scope)))
        assert_refused(response, 403)


async def test_health_stays_open() -> None:
    for service in SERVICES:
        assert (await call(service, "GET", "/health/live", None)).status_code == 200
