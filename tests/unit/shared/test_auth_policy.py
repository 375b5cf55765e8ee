"""The access policy: every action has a rule, and a grant reaches what the rule says."""

from __future__ import annotations

import pytest

from shared.auth.cli import principal_of
from shared.auth.errors import ForbiddenError
from shared.auth.grant import grant
from shared.auth.policy import DEFAULT_SCOPES, RULES, Action, Party, Scope, parties_of
from shared.auth.principal import Principal, Role

OPERATOR = principal_of("ana", roles=[Role.OPERATOR])
AUDITOR = principal_of("ivan", roles=[Role.AUDITOR])
ADMIN = principal_of("root", roles=[Role.ADMIN])
AUTHORITY = principal_of("cases-si", authority="si-dsp-ljubljana")
OFFICE = principal_of("vjt-subotica", office_id="vjt-subotica")


def test_every_action_has_a_rule() -> None:
    assert set(RULES) == set(Action)


@pytest.mark.parametrize("action", list(Action))
def test_the_default_scopes_of_a_party_open_every_action_its_rule_names(action: Action) -> None:
    rule = RULES[action]
    for party in rule.parties:
        assert rule.scope in DEFAULT_SCOPES[party], (action, party)


def test_only_admins_replay_and_edit_the_directory_and_only_operators_close_and_route() -> None:
    assert RULES[Action.REPLAY_ARCHIVE].parties == {Party.ADMIN}
    assert RULES[Action.EDIT_DIRECTORY].parties == {Party.ADMIN}
    assert RULES[Action.CLOSE_REQUEST].parties == {Party.OPERATOR}
    assert RULES[Action.ROUTE_REQUEST].parties == {Party.OPERATOR}
    assert RULES[Action.READ_ARCHIVE].parties == {Party.AUDITOR, Party.ADMIN}


def test_a_token_without_the_scope_is_refused_with_the_scope_it_lacks() -> None:
    narrow = principal_of("ana", roles=[Role.OPERATOR], scopes=[Scope.READ])
    with pytest.raises(ForbiddenError) as caught:
        grant(narrow, Action.CLOSE_REQUEST)
    assert caught.value.status == 403
    assert 'error="insufficient_scope", scope="requests:write"' in caught.value.www_authenticate


@pytest.mark.parametrize(
    ("principal", "action"),
    [
        (AUDITOR, Action.SUBMIT_REQUEST),
        (AUTHORITY, Action.CLOSE_REQUEST),
        (OFFICE, Action.READ_STATS),
        (OPERATOR, Action.REPLAY_ARCHIVE),
        (AUTHORITY, Action.READ_DELIVERIES),
    ],
)
def test_a_party_the_rule_does_not_name_is_refused(principal: Principal, action: Action) -> None:
    everything = Principal(
        principal.subject,
        frozenset(Scope),
        principal.roles,
        principal.authority,
        principal.office_id,
    )
    with pytest.raises(ForbiddenError):
        grant(everything, action)


def test_the_department_reaches_every_request() -> None:
    for principal in (OPERATOR, AUDITOR, ADMIN):
        reach = grant(principal, Action.TRACK_REQUESTS)
        assert reach.everything
        assert reach.covers(authority="fr-pnf", offices=["vjt-nis"])
        assert reach.covers()


def test_an_authority_reaches_its_own_requests_only() -> None:
    reach = grant(AUTHORITY, Action.TRACK_REQUESTS)
    assert not reach.everything
    assert reach.covers(authority="si-dsp-ljubljana")
    assert not reach.covers(authority="fr-pnf", offices=["vjt-subotica"])
    assert not reach.covers(authority=None)  # the department's, received on paper


def test_an_office_reaches_the_requests_it_holds_an_assignment_of() -> None:
    reach = grant(OFFICE, Action.TRACK_REQUESTS)
    assert reach.covers(authority="fr-pnf", offices=["vjt-subotica", "vjt-nis"])
    assert not reach.covers(authority="si-dsp-ljubljana", offices=["vjt-nis"])


def test_claims_count_only_where_the_rule_names_their_party() -> None:
    # An operator token that also names an authority still acts as the department.
    both = principal_of("ana", roles=[Role.OPERATOR], authority="si-dsp-ljubljana")
    assert parties_of(both) == {Party.OPERATOR, Party.AUTHORITY}
    assert grant(both, Action.CLOSE_REQUEST).authority is None
    assert grant(both, Action.SUBMIT_REQUEST).everything
