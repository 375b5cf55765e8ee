"""What notify remembers of each request, so that later events can be addressed and told.

Only `mla.request.received` carries the domestic reference and the requesting authority, and
only `mla.request.routed` names the offices; the other events carry the request id alone.
notify keeps those few facts per request (no persons, no facts of the case) and, for each
event, works out which offices it concerns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from services.notify.domain.subscription import Notice
from shared.events.catalogue import (
    AssignmentDeclined,
    DeadlineAlert,
    Payload,
    RequestClosed,
    RequestExecuted,
    RequestReceived,
    RequestRouted,
    RequestWithdrawn,
    RoutingFailed,
    type_of,
)


@dataclass
class RequestFacts:
    request_id: str
    domestic_reference: str | None = None
    authority_name: str | None = None
    authority_country: str | None = None
    authority_reference: str | None = None
    # The identifier of the authority that submitted it (None: the department): whose it is.
    authority: str | None = None
    status: str = "unknown"
    # Every office that ever held an assignment of the request, with its name.
    office_names: dict[str, str] = field(default_factory=dict)
    current_offices: list[str] = field(default_factory=list)
    assignment_ids: list[str] = field(default_factory=list)

    def apply(self, payload: Payload) -> Notice:
        """Take the event's facts in; return whom it concerns."""
        offices = frozenset(self.current_offices)
        match payload:
            case RequestReceived():
                authority = payload.details.requesting_authority
                self.domestic_reference = payload.domestic_reference
                self.authority_name = authority.name
                self.authority_country = authority.country
                self.authority_reference = authority.reference
                self.authority = payload.authority
                self.status = "received"
            case RequestRouted():
                offices = self._route(payload)
                self.status = "routed"
            case RoutingFailed():
                self.status = "routing_failed"
            case AssignmentDeclined():
                offices = frozenset({payload.office_id})
                self.current_offices = [o for o in self.current_offices if o != payload.office_id]
                self.status = "rerouting"
            case RequestExecuted():
                offices = frozenset({payload.office_id})
                self.status = "executed" if payload.outstanding == 0 else "executing"
            case RequestWithdrawn():
                self.status = "withdrawn"
            case RequestClosed():
                self.status = "closed"
            case DeadlineAlert():
                pass
        return Notice(
            type=type_of(payload),
            request_id=self.request_id,
            authority_name=self.authority_name,
            authority_country=self.authority_country,
            authority=self.authority,
            offices=offices,
        )

    def office_name(self, office_id: str) -> str:
        return self.office_names.get(office_id, office_id)

    def _route(self, payload: RequestRouted) -> frozenset[str]:
        """Offices given an assignment they did not have: a re-route that leaves an office
        its measures keeps its assignment id, and that office is not told again."""
        new = [a for a in payload.assignments if a.assignment_id not in self.assignment_ids]
        for assignment in payload.assignments:
            self.office_names[assignment.office_id] = assignment.office_name
        self.assignment_ids += [a.assignment_id for a in new]
        self.current_offices = list(dict.fromkeys(a.office_id for a in payload.assignments))
        return frozenset(a.office_id for a in new)
