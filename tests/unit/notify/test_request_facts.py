"""What notify remembers of a request and whom each of its events concerns."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime

from services.notify.domain.request_facts import RequestFacts
from shared.events.catalogue import (
    Assignment,
    AssignmentDeclined,
    DeadlineApproaching,
    MeasureRef,
    RequestExecuted,
    RequestReceived,
    RequestRouted,
)
from shared.request.model import EXAMPLE_REQUEST, RequestDetails

SUBOTICA = ("a-1", "vjt-subotica", "Više javno tužilaštvo u Subotici")
NOVI_SAD = ("a-2", "vjt-novi-sad", "Više javno tužilaštvo u Novom Sadu")
NIS = ("a-3", "vjt-nis", "Više javno tužilaštvo u Nišu")


def received() -> RequestReceived:
    return RequestReceived(
        request_id="r1",
        domestic_reference="MPP-2026-000001",
        received_at=datetime.now(UTC),
        details=RequestDetails.model_validate(copy.deepcopy(EXAMPLE_REQUEST)),
    )


def routed(*assignments: tuple[str, str, str]) -> RequestRouted:
    return RequestRouted(
        request_id="r1",
        assignments=[
            Assignment(
                assignment_id=assignment_id,
                office_id=office_id,
                office_name=name,
                measures=[MeasureRef(index=0, type="hearing_witness", place="Subotica")],
                rule="territorial",
                basis="-",
            )
            for assignment_id, office_id, name in assignments
        ],
        directory_version=1,
        trace=[],
    )


def test_received_gives_the_references_and_the_requesting_authority() -> None:
    facts = RequestFacts("r1")
    notice = facts.apply(received())
    assert facts.domestic_reference == "MPP-2026-000001"
    assert facts.authority_reference == "Kt 1234/2026"
    assert notice.authority_name == "District State Prosecutor's Office in Ljubljana"
    assert notice.authority_country == "SI" and notice.offices == frozenset()
    assert facts.status == "received"


def test_a_re_route_concerns_only_the_offices_given_a_new_assignment() -> None:
    facts = RequestFacts("r1")
    facts.apply(received())
    first = facts.apply(routed(SUBOTICA, NOVI_SAD))
    assert first.offices == {"vjt-subotica", "vjt-novi-sad"}
    declined = facts.apply(
        AssignmentDeclined(
            request_id="r1", assignment_id="a-2", office_id="vjt-novi-sad", reason="x"
        )
    )
    assert declined.offices == {"vjt-novi-sad"} and facts.status == "rerouting"
    again = facts.apply(routed(SUBOTICA, NIS))  # Subotica keeps its assignment
    assert again.offices == {"vjt-nis"}
    assert facts.current_offices == ["vjt-subotica", "vjt-nis"]
    assert again.authority_name == "District State Prosecutor's Office in Ljubljana"


def test_deadline_alerts_concern_the_offices_holding_the_request() -> None:
    facts = RequestFacts("r1")
    facts.apply(received())
    facts.apply(routed(SUBOTICA, NOVI_SAD))
    alert = facts.apply(
        DeadlineApproaching(
            request_id="r1", deadline_id="d1", kind="execute", due=date(2027, 1, 4), basis="b"
        )
    )
    assert alert.offices == {"vjt-subotica", "vjt-novi-sad"}


def test_execution_reports_tell_whether_every_office_has_reported() -> None:
    facts = RequestFacts("r1")
    facts.apply(received())
    facts.apply(routed(SUBOTICA, NOVI_SAD))
    one = facts.apply(
        RequestExecuted(
            request_id="r1",
            assignment_id="a-1",
            office_id="vjt-subotica",
            result="executed",
            outstanding=1,
        )
    )
    assert one.offices == {"vjt-subotica"} and facts.status == "executing"
    facts.apply(
        RequestExecuted(
            request_id="r1",
            assignment_id="a-2",
            office_id="vjt-novi-sad",
            result="executed",
            outstanding=0,
        )
    )
    assert facts.status == "executed"


def test_events_of_a_request_notify_never_saw_received_still_concern_someone() -> None:
    facts = RequestFacts("r9")
    notice = facts.apply(routed(SUBOTICA))
    assert notice.offices == {"vjt-subotica"} and notice.authority_name is None
    assert facts.domestic_reference is None
