"""Who may do what: every action of every service, the scope it needs and the parties that
may take it. The one place where access is decided; services only name the action.

A request needs both: the token's scope (what the client was allowed to use the token for)
and a party the rule names (who the caller is). Requesting authorities and executing offices
reach only their own requests and assignments (see `grant.py`); the department's roles reach
every request. Admin is not a superset of the other roles: it runs the system (replay, the
office directory) and reads, but does no case work.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shared.auth.principal import Principal, Role


class Scope(StrEnum):
    READ = "requests:read"
    WRITE = "requests:write"
    SUBSCRIPTIONS = "subscriptions"
    AUDIT = "audit"
    ADMIN = "admin"
    METRICS = "metrics"


class Party(StrEnum):
    AUTHORITY = "authority"  # a requesting authority: the token's `authority` claim
    OFFICE = "office"  # an executing office: the token's `office_id` claim
    OPERATOR = Role.OPERATOR.value
    AUDITOR = Role.AUDITOR.value
    ADMIN = Role.ADMIN.value


# The parties that act for the department and so reach every request.
DEPARTMENT = frozenset({Party.OPERATOR, Party.AUDITOR, Party.ADMIN})


class Action(StrEnum):
    # intake
    SUBMIT_REQUEST = "request.submit"
    READ_REQUEST = "request.read"
    WITHDRAW_REQUEST = "request.withdraw"
    CLOSE_REQUEST = "request.close"
    ERASE_PERSONAL_DATA = "request.erase_personal_data"
    # routing
    PREVIEW_ROUTING = "routing.preview"
    READ_ROUTING = "routing.read"
    ROUTE_REQUEST = "routing.route"
    READ_ASSIGNMENTS = "assignment.read"
    REPORT_ASSIGNMENT = "assignment.report"
    READ_DIRECTORY = "directory.read"
    EDIT_DIRECTORY = "directory.edit"
    # tracking
    TRACK_REQUESTS = "tracking.read"
    READ_DEADLINES = "deadline.read"
    READ_STATS = "stats.read"
    WATCH_REQUESTS = "tracking.watch"
    READ_ARCHIVE = "archive.read"
    SIGN_CHECKPOINT = "archive.checkpoint"
    REPLAY_ARCHIVE = "archive.replay"
    # notify
    MANAGE_SUBSCRIPTIONS = "subscription.manage"
    READ_DELIVERIES = "delivery.read"
    RETRY_DELIVERY = "delivery.retry"
    READ_REQUEST_EVENTS = "request.events"
    # every service
    READ_METRICS = "metrics.read"


@dataclass(frozen=True)
class Rule:
    scope: Scope
    parties: frozenset[Party]


def _rule(scope: Scope, *parties: Party) -> Rule:
    return Rule(scope, frozenset(parties))


# Short names keep the table one rule a line.
A, OF, OP, AU, AD = Party.AUTHORITY, Party.OFFICE, Party.OPERATOR, Party.AUDITOR, Party.ADMIN

RULES: dict[Action, Rule] = {
    # An operator submits and withdraws for an authority that wrote on paper.
    Action.SUBMIT_REQUEST: _rule(Scope.WRITE, A, OP),
    Action.READ_REQUEST: _rule(Scope.READ, A, OP, AU, AD),
    Action.WITHDRAW_REQUEST: _rule(Scope.WRITE, A, OP),
    Action.CLOSE_REQUEST: _rule(Scope.WRITE, OP),
    # Destroying a request's personal data (data protection, end of retention) is not case
    # work: the administrator does it, on a decision taken outside the system.
    Action.ERASE_PERSONAL_DATA: _rule(Scope.ADMIN, AD),
    Action.PREVIEW_ROUTING: _rule(Scope.READ, OP),
    Action.READ_ROUTING: _rule(Scope.READ, OP, AU, AD),
    Action.ROUTE_REQUEST: _rule(Scope.WRITE, OP),
    Action.READ_ASSIGNMENTS: _rule(Scope.READ, OF, OP, AU, AD),
    # An operator records the report of an office that answered on paper.
    Action.REPORT_ASSIGNMENT: _rule(Scope.WRITE, OF, OP),
    # The directory is reference data: whoever works with requests reads it.
    Action.READ_DIRECTORY: _rule(Scope.READ, A, OF, OP, AU, AD),
    Action.EDIT_DIRECTORY: _rule(Scope.ADMIN, AD),
    Action.TRACK_REQUESTS: _rule(Scope.READ, A, OF, OP, AU, AD),
    Action.READ_DEADLINES: _rule(Scope.READ, OF, OP, AU, AD),
    Action.READ_STATS: _rule(Scope.READ, OP, AU, AD),
    # The department's live view (the dashboard's overview and event stream) shows every
    # request at once, so no authority or office may watch it.
    Action.WATCH_REQUESTS: _rule(Scope.READ, OP, AU, AD),
    Action.READ_ARCHIVE: _rule(Scope.AUDIT, AU, AD),
    Action.SIGN_CHECKPOINT: _rule(Scope.AUDIT, AU, AD),
    Action.REPLAY_ARCHIVE: _rule(Scope.ADMIN, AD),
    Action.MANAGE_SUBSCRIPTIONS: _rule(Scope.SUBSCRIPTIONS, A, OF, OP, AD),
    Action.READ_DELIVERIES: _rule(Scope.SUBSCRIPTIONS, OP, AD),
    Action.RETRY_DELIVERY: _rule(Scope.SUBSCRIPTIONS, OP, AD),
    Action.READ_REQUEST_EVENTS: _rule(Scope.READ, A, OF, OP, AU, AD),
    Action.READ_METRICS: _rule(Scope.METRICS, OP, AD),
}

# The scopes `mla-token` gives each kind of principal unless told otherwise: all a party
# needs for the actions the rules allow it.
DEFAULT_SCOPES: dict[Party, frozenset[Scope]] = {
    party: frozenset(rule.scope for rule in RULES.values() if party in rule.parties)
    for party in Party
}


def parties_of(principal: Principal) -> frozenset[Party]:
    """The parties a principal acts as: its roles, and its authority or office."""
    parties = {Party(role.value) for role in principal.roles}
    if principal.authority:
        parties.add(Party.AUTHORITY)
    if principal.office_id:
        parties.add(Party.OFFICE)
    return frozenset(parties)
