"""When the first-choice office cannot take a request: declines and failures of the routing rules.

An office that declined is never chosen again (the next competent office, if any, takes the
request); a request no rule can place fails with its reason and no assignment; a
decision has assignments or a failure, never both.
"""

import pytest

from services.routing.domain.directory import Directory
from services.routing.domain.rules import RoutingCase, RoutingDecision, route
from shared.events.vocabulary import Channel, Direction
from tests.unit.routing.routing_cases import (
    BASIC_DECLINED,
    DRUGS_8,
    DRUGS_12,
    ORGANIZED_CRIME,
    PARTLY_PLACEABLE,
    SUBOTICA_SEARCH,
    WAR_CRIMES_DECLINED,
    Cat,
    Expected,
    Type,
    measure,
    offence,
    placed,
    request,
)

EXCLUDED = [
    pytest.param(
        BASIC_DECLINED,
        (("vjt-subotica", (1,), "territorial_higher", True),),
        id="basic-office-declined-higher-office-of-the-territory",
    ),
    pytest.param(
        WAR_CRIMES_DECLINED,
        (("vjt-novi-sad", (1,), "territorial_higher", True),),
        id="war-crimes-office-declined-falls-through-to-territorial",
    ),
    pytest.param(
        request(
            Cat.CORRUPTION,
            [offence(Cat.CORRUPTION, 8, estimated_gain_rsd=250_000_000)],
            measure(1, Type.BANKING_INFORMATION, "Kragujevac"),
            excluded=(ORGANIZED_CRIME,),
        ),
        (("acd-kraljevo", (1,), "anti_corruption", True),),
        id="organized-crime-declined-anti-corruption-department",
    ),
    pytest.param(
        request(
            Cat.TRAFFICKING_DRUGS,
            [DRUGS_8],
            SUBOTICA_SEARCH,
            measure(2, Type.TRAFFIC_DATA, "Subotica"),
            excluded=("vtk-beograd",),
        ),
        (("ojt-subotica", (1, 2), "territorial_basic", True),),
        id="high-tech-declined-budapest-measure-territorial",
    ),
    pytest.param(
        request(
            Cat.CORRUPTION,
            [offence(Cat.CORRUPTION, 8)],
            measure(1, Type.BANKING_INFORMATION, "Kragujevac"),
            excluded=("acd-kraljevo",),
        ),
        (("ojt-kragujevac", (1,), "territorial_basic", True),),
        id="anti-corruption-department-declined-basic-office",
    ),
    pytest.param(
        request(
            Cat.OTHER,
            [offence(Cat.OTHER)],
            measure(1, Type.HEARING_WITNESS, "Senta"),
            excluded=("vjt-subotica",),
        ),
        (("ojt-senta", (1,), "territorial_basic", True),),
        id="penalty-unknown-higher-declined-basic-office",
    ),
    pytest.param(
        request(
            Cat.OTHER,
            [offence(Cat.OTHER, 5)],
            measure(1, Type.HEARING_WITNESS, "Senta"),
            excluded=("ojt-nis",),
        ),
        (("ojt-senta", (1,), "territorial_basic", False),),
        id="an-unrelated-decline-changes-nothing",
    ),
]

FAILED = [
    pytest.param(
        request(Cat.OTHER, [offence(Cat.OTHER, 5)], measure(1, Type.HEARING_WITNESS, "Priština")),
        "measure 1 (hearing_witness in Priština): place not in directory version 1",
        id="place-unknown-to-the-directory",
    ),
    pytest.param(
        PARTLY_PLACEABLE,
        "1 of 2 measure(s) cannot be placed",
        id="partly-placeable-is-not-routed",
    ),
    pytest.param(
        request(
            Cat.OTHER,
            [offence(Cat.OTHER, 12)],
            measure(1, Type.TEMPORARY_TRANSFER_OF_DETAINED_PERSON, "Niš"),
            channel=Channel.DIRECT,
        ),
        "goes ministry to ministry, but this request came via direct",
        id="temporary-transfer-via-direct-channel",
    ),
    pytest.param(
        request(Cat.TRAFFICKING_DRUGS, [DRUGS_12], SUBOTICA_SEARCH, direction=Direction.OUTGOING),
        "outgoing request",
        id="outgoing-request",
    ),
    pytest.param(request(Cat.OTHER, [offence(Cat.OTHER, 5)]), "no measure", id="no-measures"),
    pytest.param(
        request(Cat.OTHER, [offence(Cat.OTHER, 5)], SUBOTICA_SEARCH, SUBOTICA_SEARCH),
        "measure indexes repeat",
        id="repeated-measure-index",
    ),
    pytest.param(
        request(Cat.TRAFFICKING_DRUGS, [DRUGS_12], SUBOTICA_SEARCH, excluded=("vjt-subotica",)),
        "vjt-subotica declined this request: no other territorial office can take it",
        id="higher-office-declined-a-grave-offence",
    ),
]


@pytest.mark.parametrize(("case", "expected"), EXCLUDED)
def test_an_office_that_declined_is_never_chosen_again(
    directory: Directory, case: RoutingCase, expected: Expected
) -> None:
    decision = route(case, directory)
    assert placed(decision) == expected
    assert not {a.office_id for a in decision.assignments} & case.excluded_office_ids


@pytest.mark.parametrize(("case", "failure"), FAILED)
def test_a_request_no_rule_can_place_fails_with_its_reason(
    directory: Directory, case: RoutingCase, failure: str
) -> None:
    decision = route(case, directory)
    assert not decision.routed
    assert decision.assignments == ()
    assert decision.failure is not None and failure in decision.failure


def test_a_decision_has_assignments_or_a_failure_never_both() -> None:
    with pytest.raises(ValueError, match="not both"):
        RoutingDecision(assignments=(), trace=(), directory_version=1)
