"""`mla-token`: issue a bearer token with the shared key, for a client system or a person.

    mla-token --subject ana.petrovic --role operator
    mla-token --subject cases-si --authority si-dsp-ljubljana --hours 720
    mla-token --subject vjt-subotica --office vjt-subotica --scope requests:read

Without `--scope`, the token gets every scope its roles and claims can use (policy.py).
Where the services verify against an identity provider (AUTH_JWKS_URL), tokens come from
that provider, not from here.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path

from shared.auth.keys import SharedKeyError, read_shared_key
from shared.auth.policy import DEFAULT_SCOPES, Scope, parties_of
from shared.auth.principal import Principal, Role
from shared.auth.tokens import issue_token
from shared.settings import ServiceSettings

_DEFAULTS = ServiceSettings.model_fields


def principal_of(
    subject: str,
    *,
    roles: list[str] | tuple[str, ...] = (),
    authority: str | None = None,
    office_id: str | None = None,
    scopes: list[str] | None = None,
) -> Principal:
    """The principal a token will name; scopes default to all its parties can use."""
    principal = Principal(
        subject=subject,
        roles=frozenset(Role(role) for role in roles),
        authority=authority,
        office_id=office_id,
    )
    if scopes is None:
        scopes = sorted({s.value for p in parties_of(principal) for s in DEFAULT_SCOPES[p]})
    return Principal(
        subject=subject,
        scopes=frozenset(scopes),
        roles=principal.roles,
        authority=authority,
        office_id=office_id,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="mla-token", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subject", required=True, help="who the token is for (sub)")
    parser.add_argument("--role", action="append", choices=[r.value for r in Role], default=[])
    parser.add_argument("--authority", help="the requesting authority's identifier")
    parser.add_argument("--office", help="the executing office's id (office directory)")
    parser.add_argument(
        "--scope",
        action="append",
        choices=[s.value for s in Scope],
        help="a scope to grant (repeat); default: all the principal's parties use",
    )
    parser.add_argument("--hours", type=float, default=12.0, help="lifetime (default 12)")
    parser.add_argument(
        "--key-file",
        type=Path,
        default=_DEFAULTS["auth_shared_key_file"].default,
        help="the shared key (default: the one `make run` keeps)",
    )
    parser.add_argument("--issuer", default=_DEFAULTS["auth_issuer"].default)
    parser.add_argument("--audience", default=_DEFAULTS["auth_audience"].default)
    args = parser.parse_args(argv)

    principal = principal_of(
        args.subject,
        roles=args.role,
        authority=args.authority,
        office_id=args.office,
        scopes=args.scope,
    )
    if not parties_of(principal):
        parser.error("name a --role, an --authority or an --office")
    if args.hours <= 0:
        parser.error("--hours must be positive")
    try:
        key = read_shared_key(args.key_file)
    except SharedKeyError as exc:
        print(f"mla-token: {exc}", file=sys.stderr)
        return 1
    print(
        issue_token(
            key,
            principal,
            issuer=args.issuer,
            audience=args.audience,
            lifetime=timedelta(hours=args.hours),
        )
    )
    return 0


def example_principals() -> dict[str, Principal]:
    """One principal per kind of caller, for `make run` and the tests to hand out."""
    return {
        "operator": principal_of("operator", roles=[Role.OPERATOR]),
        "auditor": principal_of("auditor", roles=[Role.AUDITOR]),
        "admin": principal_of("admin", roles=[Role.ADMIN]),
        "authority": principal_of("cases-si", authority="si-dsp-ljubljana"),
        "office": principal_of("vjt-subotica", office_id="vjt-subotica"),
    }
