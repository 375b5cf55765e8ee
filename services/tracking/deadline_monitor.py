"""The deadline monitor: emits `deadline_approaching` and `deadline_breached` once each.

Each alert is claimed in `deadline_alerts` in the same transaction that puts its event on
the outbox, so a restart, a second instance or a replay of the archive never emits it
again. And an alert is one event whenever it is made: its id follows from the deadline and
the threshold, so that one made again where the claim was lost (tracking's database
restored from a backup older than the alert, which its consumer then reads again from the
topic) is a copy that the archive and notify skip, not a second alert. A deadline found
already past gets only its breach alert (a late "approaching" would only be noise).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import structlog

from services.tracking.adapters.deadline_store import DeadlineStore
from services.tracking.adapters.tables import outbox
from shared.db import UnitOfWork
from shared.events.catalogue import DeadlineAlert, DeadlineApproaching, DeadlineBreached, new_event
from shared.eventstore import enqueue

log = structlog.get_logger("tracking.deadlines")
BELGRADE = ZoneInfo("Europe/Belgrade")
SOURCE = "/mla/tracking"
# The namespace of the alerts' ids (UUID version 5, from the deadline and the threshold).
ALERT_IDS = uuid.UUID("5b0f6c3e-8d1a-4c52-9a57-0e6d2f4b7c11")


def alert_id(deadline_id: str, threshold: str) -> str:
    """The id of a deadline's alert at a threshold: the same every time it is made."""
    return str(uuid.uuid5(ALERT_IDS, f"{deadline_id}|{threshold}"))


class DeadlineMonitor:
    def __init__(
        self,
        unit_of_work: Callable[[], UnitOfWork],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._unit_of_work = unit_of_work
        self._clock = clock

    async def scan(self) -> int:
        """Emit every alert that is due and not yet emitted; returns how many."""
        now = self._clock()
        emitted = 0
        async with self._unit_of_work() as uow:
            store = DeadlineStore(uow.session)
            for row in await store.needing_alerts(now):
                threshold, kind = (
                    ("breached", DeadlineBreached)
                    if row["due"] <= now
                    else ("approaching", DeadlineApproaching)
                )
                event = new_event(
                    _alert(kind, row),
                    source=SOURCE,
                    event_id=alert_id(str(row["deadline_id"]), threshold),
                )
                if await store.claim_alert(row["deadline_id"], threshold, event.id):
                    await enqueue(uow.session, outbox, [event])
                    emitted += 1
                    log.info(
                        "deadline.alert",
                        request_id=row["request_id"],
                        deadline=row["kind"],
                        threshold=threshold,
                    )
            await uow.commit()
        return emitted


def _alert(kind: type[DeadlineAlert], row: dict[str, object]) -> DeadlineAlert:
    due = row["due"]
    assert isinstance(due, datetime)
    return kind(
        request_id=str(row["request_id"]),
        deadline_id=str(row["deadline_id"]),
        kind=str(row["kind"]),
        due=due.astimezone(BELGRADE).date(),
        basis=str(row["basis"]),
    )
