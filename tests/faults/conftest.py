"""The fault suite's own system: a PostgreSQL and a broker of its own (so that stopping them
disturbs no other test), the four services on them, and a webhook receiver subscribed to
every request's events as the operators are. Each scenario's record (what it did, what it
checked, what it found) is written to artifacts/faults/, and the table of all of them is
printed at the end of the run."""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from devstack.broker import EmbeddedBroker, free_port
from devstack.postgres import EmbeddedPostgres
from tests.faults.report import RECORDS
from tests.integration.notify.receivers import WebhookReceiver
from tests.support.auth import bearer
from tests.support.stack import RunningStack, start_stack

SUBSCRIBED = [
    "mla.request.received",
    "mla.request.routed",
    "mla.request.deadline_approaching",
    "mla.request.deadline_breached",
]


@dataclass
class System:
    postgres: EmbeddedPostgres
    broker: EmbeddedBroker
    stack: RunningStack
    receiver: WebhookReceiver
    log_dir: Path


@dataclass
class Record:
    """One scenario's line in the table."""

    fault: str
    did: list[str] = field(default_factory=list)
    found: dict[str, str] = field(default_factory=dict)

    def save(self) -> None:
        RECORDS.mkdir(parents=True, exist_ok=True)
        name = "".join(c if c.isalnum() else "-" for c in self.fault.lower())
        (RECORDS / f"{name}.json").write_text(json.dumps(self.__dict__, indent=2))


@pytest.fixture(scope="module")
async def system(request: pytest.FixtureRequest) -> AsyncIterator[System]:
    # A folder per module: `make test` may run the fault modules at once on two workers,
    # each with a shared key of its own (tests/support/auth.py), written where its stack's
    # services read it; one folder made one worker's services check the other's tokens.
    log_dir = RECORDS / "logs" / request.module.__name__.rsplit(".", 1)[-1]
    log_dir.mkdir(parents=True, exist_ok=True)
    # The server's data, removed at the end unless a test of the module failed (its log
    # is there too, beside the data folder).
    folder = Path(tempfile.mkdtemp(prefix="mla-faults-"))
    failed_before = request.session.testsfailed
    postgres = EmbeddedPostgres(folder / "pg" / "data", free_port(), fast_and_unsafe=True)
    broker = EmbeddedBroker(free_port(), log_file=log_dir / "broker.log")
    await asyncio.to_thread(postgres.start)
    broker.start()
    receiver = WebhookReceiver()
    await receiver.up()
    stack = await start_stack(
        log_dir,
        bootstrap=broker.bootstrap_servers,
        server_url=postgres.url(),
        overrides={
            "notify": {
                "NOTIFY_ALLOW_PRIVATE_TARGETS": "true",
                # The receiver answers from the test's own process, which runs the load too:
                # on a starved machine an answer came after the 5 s a delivery waits, and a
                # webhook that got no answer is sent again by design (no sender can know
                # whether it arrived): a duplicate the suite would blame on the fault.
                "NOTIFY_DELIVERY_TIMEOUT_SECONDS": "30",
            }
        },
    )
    try:
        async with httpx.AsyncClient(timeout=15, headers=bearer("operator")) as http:
            response = await http.post(
                f"{stack.url('notify')}/v1/subscriptions",
                json={
                    "channel": "webhook",
                    "url": receiver.url,
                    "role": "operators",
                    "event_types": SUBSCRIBED,
                },
            )
        assert response.status_code == 201, response.text
        receiver.secret = response.json()["secret"]
        yield System(postgres, broker, stack, receiver, log_dir)
    finally:
        stack.stop_all()
        await receiver.down()
        broker.stop()
        await asyncio.to_thread(postgres.stop)
        if request.session.testsfailed == failed_before:
            shutil.rmtree(folder, ignore_errors=True)
