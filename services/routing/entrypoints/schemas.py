"""The shapes of routing's HTTP API."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from services.routing.domain.decision import RoutingDecision
from services.routing.domain.directory import Directory, OfficeKind, OfficeRole, Status
from services.routing.domain.routed_request import RoutedRequest
from shared.events.catalogue import Assignment, RuleStep
from shared.events.vocabulary import ExecutionResult, OffenceCategory
from shared.personal_data.notice import IN_THE_CLEAR
from shared.request.model import RequestDetails


class PlannedAssignmentOut(BaseModel):
    office_id: str
    office_name: str
    measures: list[dict[str, Any]]
    rule: str
    basis: str
    inferred: bool


class PreviewOut(BaseModel):
    """What automatic routing would decide now, and why."""

    routed: bool
    failure: str | None
    directory_version: int
    assignments: list[PlannedAssignmentOut]
    trace: list[RuleStep]

    @classmethod
    def of(
        cls, decision: RoutingDecision, directory: Directory, details: RequestDetails
    ) -> PreviewOut:
        return cls(
            routed=decision.routed,
            failure=decision.failure,
            directory_version=decision.directory_version,
            assignments=[
                PlannedAssignmentOut(
                    office_id=a.office_id,
                    office_name=directory.office(a.office_id).name,
                    measures=[
                        {
                            "index": i,
                            "type": details.measures[i].type,
                            "place": details.measures[i].place,
                        }
                        for i in a.measure_indexes
                    ],
                    rule=a.rule,
                    basis=a.basis,
                    inferred=a.inferred,
                )
                for a in decision.assignments
            ],
            trace=[
                RuleStep(rule=t.rule, matched=t.matched, reason=t.reason) for t in decision.trace
            ],
        )


class AssignmentOut(Assignment):
    request_id: str
    result: ExecutionResult | None


class RoutingOut(BaseModel):
    """A request's routing: where it stands, its assignments, the last decision's trace."""

    request_id: str
    status: str
    directory_version: int | None
    failure: str | None
    declined_offices: list[str]
    assignments: list[AssignmentOut]
    trace: list[RuleStep]
    allowed_actions: list[str]

    @classmethod
    def of(cls, routed: RoutedRequest) -> RoutingOut:
        return cls(
            request_id=routed.request_id,
            status=routed.status,
            directory_version=routed.directory_version,
            failure=routed.last_failure,
            declined_offices=sorted(routed.declined_offices),
            assignments=assignments_of(routed),
            trace=routed.last_trace,
            allowed_actions=routed.allowed(),
        )


def assignments_of(routed: RoutedRequest) -> list[AssignmentOut]:
    return [
        AssignmentOut(**s.assignment.model_dump(), request_id=routed.request_id, result=s.result)
        for s in routed.assignments.values()
    ]


class OfficeMeasures(BaseModel):
    model_config = ConfigDict(extra="forbid")
    office_id: str = Field(min_length=1, max_length=100)
    measures: list[Annotated[int, Field(ge=0, lt=100)]] = Field(
        min_length=1, max_length=100, description="Measure indexes, from 0."
    )


class ManualRouting(BaseModel):
    """Route or re-route by hand. Without `assignments`, the rules run again."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000, description=IN_THE_CLEAR)
    operator: str | None = Field(default=None, max_length=200)
    assignments: list[OfficeMeasures] | None = Field(default=None, max_length=50)


class ExecutionReport(BaseModel):
    model_config = ConfigDict(extra="forbid")
    result: ExecutionResult
    details: str | None = Field(default=None, max_length=10000, description=IN_THE_CLEAR)


class Declination(BaseModel):
    """The office is not competent for this assignment, and why."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000, description=IN_THE_CLEAR)


Place = Annotated[str, Field(min_length=1, max_length=100)]


class OfficeContact(BaseModel):
    """How the office is reached (its international unit, never a person's own address)."""

    model_config = ConfigDict(extra="forbid")
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=100)
    address: str | None = Field(default=None, max_length=500)


class OfficeEdit(BaseModel):
    """An office as operators maintain it; every edit makes a new directory version."""

    model_config = ConfigDict(extra="forbid")
    kind: OfficeKind
    name: str = Field(min_length=1, max_length=300)
    name_en: str = Field(min_length=1, max_length=300)
    seat: str = Field(min_length=1, max_length=100)
    parent_id: str | None = Field(default=None, min_length=1, max_length=100)
    appellate_area: str | None = Field(default=None, min_length=1, max_length=100)
    territory: list[Place] = Field(default_factory=list, max_length=200)
    nationwide: bool = False
    roles: list[OfficeRole] = Field(default_factory=list, max_length=10)
    subject_matter: list[OffenceCategory] = Field(default_factory=list, max_length=20)
    contact: OfficeContact | None = None
    status: Status = Status.CONFIRMED
    note: str | None = Field(default=None, max_length=2000)
    sources: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(
        default_factory=list, max_length=50
    )
    change_note: str = Field(min_length=1, max_length=500, description="Why the office changes.")
    changed_by: str | None = Field(default=None, max_length=200)
