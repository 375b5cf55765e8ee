"""Who is calling, and what they may do: bearer tokens (JWT), the principal they name, the
policy of every action, and the FastAPI dependency each route declares.

    tokens.py        verify a token (a shared HS256 key, or a JWKS URL) and issue one
    principal.py     the caller a verified token names: roles, scopes, authority, office
    policy.py        every action, the scope it needs and who may take it
    grant.py         what one caller may reach for one action (all requests, or its own)
    dependencies.py  `Authorize(action)` for routes, and the check that none lacks one
    errors.py        401 and 403 as problem+json, with the `WWW-Authenticate` challenge
    keys.py          the shared HS256 key: made once, kept in a file, read by all
    cli.py           `mla-token`, which issues tokens with that key

The policy is written once, here; the services only declare which action a route is and
filter what they return with the `Grant` the dependency hands them.
"""

from shared.auth.dependencies import (
    Authorize,
    action_of,
    api_routes,
    authorize,
    install_auth,
    require_rules,
    routes_without_rule,
    verifier_of,
)
from shared.auth.grant import Grant
from shared.auth.policy import Action, Party, Scope
from shared.auth.principal import Principal, Role

__all__ = [
    "Action",
    "Authorize",
    "Grant",
    "Party",
    "Principal",
    "Role",
    "Scope",
    "action_of",
    "api_routes",
    "authorize",
    "install_auth",
    "require_rules",
    "routes_without_rule",
    "verifier_of",
]
