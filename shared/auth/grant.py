"""What one caller may reach for one action: every request, or only its own.

`grant(principal, action)` refuses (403) a caller without the action's scope or party; what
it returns tells the route which requests the caller reaches. A route that finds a resource
the caller does not reach answers exactly as for one that does not exist (404), so that no
caller learns what another authority or office has.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shared.auth.errors import ForbiddenError
from shared.auth.policy import DEPARTMENT, RULES, Action, Party, parties_of
from shared.auth.principal import Principal


@dataclass(frozen=True)
class Grant:
    principal: Principal
    action: Action
    # True for the department's roles; otherwise only `authority` and/or `office_id` count.
    everything: bool
    authority: str | None = None
    office_id: str | None = None

    def covers(self, *, authority: str | None = None, offices: Iterable[str] = ()) -> bool:
        """Whether the caller reaches a request of `authority` held by `offices`."""
        if self.everything:
            return True
        if self.authority is not None and authority == self.authority:
            return True
        return self.office_id is not None and self.office_id in set(offices)


def grant(principal: Principal, action: Action) -> Grant:
    """The caller's grant for `action`, or `ForbiddenError` (403)."""
    rule = RULES[action]
    if rule.scope not in principal.scopes:
        raise ForbiddenError(
            f"this token lacks the scope {rule.scope!r} that {action} needs",
            challenge=f'error="insufficient_scope", scope="{rule.scope}"',
        )
    allowed = parties_of(principal) & rule.parties
    if not allowed:
        raise ForbiddenError(f"{action} is not open to the caller's role")
    return Grant(
        principal=principal,
        action=action,
        everything=bool(allowed & DEPARTMENT),
        authority=principal.authority if Party.AUTHORITY in allowed else None,
        office_id=principal.office_id if Party.OFFICE in allowed else None,
    )
