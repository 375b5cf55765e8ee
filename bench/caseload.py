"""A generated caseload: requests received over two years and what happened to each.

Each request is received by intake, routed by the real routing engine over the shipped
office directory (so offices, rules and traces are the ones production would write),
executed office by office, and closed; a few are declined and re-routed, fail routing
(outgoing requests) or are withdrawn. Events later than `now` are not emitted, so recent
requests are still open and some older ones are overdue. The envelopes are exactly what
the services publish: `bench.tracking` checks a sample against the event catalogue.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from bench import corpus
from bench.details import DetailsWriter
from services.routing.adapters.directory_store import seed_document
from services.routing.domain.decision import RoutingDecision
from services.routing.domain.rules import route
from services.routing.domain.seed import seed_directory
from services.routing.handlers import case_of
from shared.events import catalogue
from shared.request.model import RequestDetails

Event = tuple[datetime, dict[str, Any]]  # (time, structured-mode CloudEvent)
SPAN = timedelta(days=730)


class Caseload:
    """Requests with their events; reproducible from `seed`."""

    def __init__(self, now: datetime, seed: int = 2026) -> None:
        self.now = now
        self._random = random.Random(seed)
        self._directory = seed_directory(seed_document())
        self._details = DetailsWriter(self._random, sorted(self._directory.municipalities))
        self._routes: dict[tuple[int, frozenset[str]], RoutingDecision] = {}
        self._serial = 0

    def requests(self, count: int) -> Iterator[list[Event]]:
        """`count` requests, each as its events in order (possibly only the first ones)."""
        for _ in range(count):
            yield [e for e in self._lifecycle() if e[0] <= self.now]

    def _lifecycle(self) -> list[Event]:
        rnd = self._random
        self._serial += 1
        request_id = self._uuid()
        received = self.now - SPAN * rnd.random()
        case, details = self._details.write(received)
        correlation = self._uuid()
        life = _Life(self, request_id, correlation, case)
        reference = f"MPP-{received.year}-{self._serial:06d}"
        life.emit(received, catalogue.RECEIVED, "/mla/intake", {
            "domestic_reference": reference, "received_at": _iso(received),
            "details": details.model_dump(mode="json"),
        })  # fmt: skip
        routed_at = received + timedelta(seconds=rnd.uniform(0.2, 90))
        assignments = life.route(routed_at, details, frozenset())
        at = routed_at
        if assignments and rnd.random() < 0.03:  # an office declines; routing places again
            at += timedelta(days=rnd.uniform(1, 20))
            declined = rnd.choice(assignments)
            life.emit(at, catalogue.ASSIGNMENT_DECLINED, "/mla/routing", {
                "assignment_id": declined["assignment_id"], "office_id": declined["office_id"],
                "reason": "The measures fall outside this office's territorial competence.",
            })  # fmt: skip
            assignments = life.route(at, details, frozenset({declined["office_id"]}))
        if rnd.random() < 0.02:  # withdrawn by the requester
            at += timedelta(days=rnd.uniform(1, 60))
            life.emit(at, catalogue.WITHDRAWN, "/mla/intake", {"reason": "case discontinued"})
            life.emit(at, catalogue.CLOSED, "/mla/intake", {"outcome": "withdrawn"})
            return life.events
        pace = 0.3 if details.urgency == "urgent" else 1.0
        results = []
        for outstanding, assignment in reversed(list(enumerate(assignments))):
            at += timedelta(days=rnd.expovariate(1 / (35 * pace)))
            result = _weighted(rnd, corpus.RESULTS)
            results.append(result)
            life.emit(at, catalogue.EXECUTED, "/mla/routing", {
                "assignment_id": assignment["assignment_id"], "office_id": assignment["office_id"],
                "result": result, "outstanding": outstanding,
                "details": "Minutes of the hearing and the documents obtained are enclosed.",
            })  # fmt: skip
        at += timedelta(days=rnd.uniform(2, 30))
        outcome = "completed" if set(results) <= {"executed"} else "partially_completed"
        if not assignments:
            outcome = "completed" if details.direction == "outgoing" else "refused"
        life.emit(at, catalogue.CLOSED, "/mla/intake", {
            "outcome": outcome, "answer_summary": "The evidence obtained was sent to the "
            "requesting authority through the channel of the request.",
        })  # fmt: skip
        return life.events

    def decision(
        self, case: int, details: RequestDetails, excluded: frozenset[str]
    ) -> RoutingDecision:
        """What the routing engine decides for the request's routing situation."""
        if (case, excluded) not in self._routes:
            self._routes[case, excluded] = route(case_of(details, excluded), self._directory)
        return self._routes[case, excluded]

    def office_name(self, office_id: str) -> str:
        return self._directory.office(office_id).name

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))


class _Life:
    """The events of one request as they are emitted."""

    def __init__(self, caseload: Caseload, request_id: str, correlation: str, case: int) -> None:
        self.caseload, self.request_id, self.correlation = caseload, request_id, correlation
        self.case = case
        self.events: list[Event] = []

    def emit(self, at: datetime, event_type: str, source: str, data: dict[str, Any]) -> None:
        envelope = {
            "specversion": "1.0", "id": self.caseload._uuid(), "source": source,
            "type": event_type, "subject": self.request_id, "time": _iso(at),
            "datacontenttype": "application/json", "schemaversion": 1,
            "correlationid": self.correlation,
            "data": {"request_id": self.request_id, **data},
        }  # fmt: skip
        if self.events and source == "/mla/routing":
            envelope["causationid"] = self.events[0][1]["id"]
        self.events.append((at, envelope))

    def route(
        self, at: datetime, details: RequestDetails, excluded: frozenset[str]
    ) -> list[dict[str, Any]]:
        decision = self.caseload.decision(self.case, details, excluded)
        trace = [{"rule": t.rule, "matched": t.matched, "reason": t.reason} for t in decision.trace]
        common = {"directory_version": decision.directory_version, "trace": trace}
        if decision.failure is not None:
            data = {"reason": decision.failure, **common}
            self.emit(at, catalogue.ROUTING_FAILED, "/mla/routing", data)
            return []
        assignments = [
            {
                "assignment_id": self.caseload._uuid(),
                "office_id": plan.office_id,
                "office_name": self.caseload.office_name(plan.office_id),
                "measures": [
                    {
                        "index": i,
                        "type": details.measures[i].type,
                        "place": details.measures[i].place,
                    }
                    for i in plan.measure_indexes
                ],
                "rule": plan.rule,
                "basis": plan.basis,
                "inferred": plan.inferred,
            }
            for plan in decision.assignments
        ]
        data = {
            "assignments": assignments,
            **common,
            "mode": "automatic",
            "rerouted": bool(excluded),
        }
        self.emit(at, catalogue.ROUTED, "/mla/routing", data)
        return assignments


def _weighted(rnd: random.Random, choices: list[tuple[str, int]]) -> str:
    return rnd.choices([c for c, _ in choices], [w for _, w in choices])[0]


def _iso(moment: datetime) -> str:
    """A UTC moment as pydantic writes it in JSON mode."""
    return moment.isoformat().replace("+00:00", "Z")
