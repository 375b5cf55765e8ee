"""The FastAPI face of the policy: `Authorize(action)` on every route, the verifier on the
app, the 401/403 rendering, and the check that no route was left without a rule.

    @router.get("/requests/{request_id}")
    async def read(request_id: str, grant: Annotated[Grant, Authorize(Action.READ_REQUEST)]):
        ...
        if not grant.covers(authority=found.authority):
            raise RequestNotFoundError(request_id)  # the same 404 as a missing one
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.auth.errors import AccessError, AuthenticationError
from shared.auth.grant import Grant, grant
from shared.auth.keys import read_shared_key, shared_key
from shared.auth.policy import Action
from shared.auth.principal import Principal
from shared.auth.tokens import (
    JwksVerifier,
    RememberingVerifier,
    SharedKeyVerifier,
    TokenVerifier,
)
from shared.problems import problem_response
from shared.rate_limit import limit_principal
from shared.settings import ServiceSettings

# Open to anyone: an orchestrator's probes carry no token, and the API's description
# (`/openapi.json`, not an API route, its pages and the files they load, the same for
# everyone) tells a client how to get one.
OPEN_PATHS = frozenset({"/health/live", "/health/ready", "/docs", "/redoc", "/docs/assets/{name}"})

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="A JWT from the identity provider or `mla-token` (see the README, Access).",
)


class Authorize:
    """The dependency of a route that takes `action`: verifies the bearer token, takes one
    request from the principal's allowance, and hands the route the caller's `Grant`, or
    refuses with 401, 429 or 403."""

    def __init__(self, action: Action) -> None:
        self.action = action

    async def __call__(
        self,
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Grant:
        return grant(await _principal(request, credentials), self.action)


def authorize(action: Action) -> Any:
    """`Depends(Authorize(action))`, for a route's parameters or `dependencies=`."""
    return Depends(Authorize(action))


async def _principal(
    request: Request, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    if credentials is None:
        raise AuthenticationError("this endpoint needs a bearer token (Authorization: Bearer)")
    verifier: TokenVerifier = request.app.state.token_verifier
    principal = await verifier.verify(credentials.credentials)
    request.state.principal = principal
    # Only now is the subject known to be the caller's own: each principal spends its own
    # allowance, whichever address it calls from (429 with Retry-After when it is spent).
    await limit_principal(request, principal)
    return principal


def verifier_of(settings: ServiceSettings) -> TokenVerifier:
    """The verifier the settings choose: a JWKS URL first, else the shared key."""
    issuer, audience = settings.auth_issuer, settings.auth_audience
    if settings.auth_jwks_url:
        return RememberingVerifier(
            JwksVerifier(settings.auth_jwks_url, issuer=issuer, audience=audience)
        )
    # An empty value (a compose file's unset variable) counts as none.
    if settings.auth_shared_key is not None and settings.auth_shared_key.get_secret_value():
        key = shared_key(settings.auth_shared_key.get_secret_value())
    elif settings.auth_shared_key_file is not None:
        key = read_shared_key(settings.auth_shared_key_file)
    else:
        raise RuntimeError("set AUTH_JWKS_URL, AUTH_SHARED_KEY or AUTH_SHARED_KEY_FILE")
    return RememberingVerifier(SharedKeyVerifier(key, issuer=issuer, audience=audience))


def install_auth(app: FastAPI, verifier: TokenVerifier) -> None:
    """Check tokens with `verifier` and render refusals with their challenge."""
    app.state.token_verifier = verifier

    @app.exception_handler(AccessError)
    async def _refused(request: Request, exc: AccessError) -> JSONResponse:
        response = problem_response(exc.status, exc.type_, exc.title, exc.detail, request)
        response.headers["WWW-Authenticate"] = exc.www_authenticate
        return response


def action_of(route: APIRoute) -> Action | None:
    """The action a route declared (through any depth of dependencies), or None."""
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        if isinstance(dependant.call, Authorize):
            return dependant.call.action
        pending.extend(dependant.dependencies)
    return None


def api_routes(app: FastAPI) -> Iterator[tuple[str, APIRoute]]:
    """Every API route of `app` with its full path, also those of included routers (which
    FastAPI keeps behind one entry of `app.routes` each)."""
    for route in app.routes:
        if isinstance(route, APIRoute):
            yield route.path, route
        contexts = getattr(route, "effective_route_contexts", None)
        for context in contexts() if contexts else ():
            original = context.original_route
            if isinstance(original, APIRoute):
                yield context.path or original.path, original


def routes_without_rule(app: FastAPI) -> list[str]:
    """`METHOD path` of every API route that neither declares an action nor is open."""
    return [
        f"{','.join(sorted(route.methods or ()))} {path}"
        for path, route in api_routes(app)
        if path not in OPEN_PATHS and action_of(route) is None
    ]


def require_rules(app: FastAPI) -> None:
    """Refuse to build an app with a route nobody decided access to."""
    missing = routes_without_rule(app)
    if missing:
        raise RuntimeError(f"routes without an access rule (shared/auth/policy.py): {missing}")
