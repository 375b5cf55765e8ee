"""The system under faults, with load running: after each fault, nothing accepted is lost,
no effect happens twice, tracking's read model equals a replay of its archive and the archive
verifies (tests/faults/promises.py). The table of what was done and found is printed at the
end of the run and kept in artifacts/faults/."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from sqlalchemy.engine import make_url

from tests.faults.backup import backup, restore
from tests.faults.conftest import Record, System
from tests.faults.scenario import under_load

pytestmark = pytest.mark.faults

CONSUMERS = ("intake", "routing", "tracking", "notify")


async def test_the_broker_killed_and_restarted_empty(system: System) -> None:
    record = Record("broker killed, restarted empty")

    async def fault() -> None:
        system.broker.stop()
        record.did.append("broker stopped (it keeps nothing: it comes back empty)")
        await asyncio.sleep(5)
        await asyncio.to_thread(system.broker.start)
        record.did.append("broker started again after 5s")

    await under_load(system, record, fault)


async def test_consumers_killed_in_the_middle_of_a_batch(system: System) -> None:
    record = Record("consumers killed mid-batch (SIGKILL)")

    async def fault() -> None:
        for service in ("tracking", "routing", "notify"):
            system.stack.stop(service, signal.SIGKILL)
            record.did.append(f"{service} killed with SIGKILL under load")
            await asyncio.sleep(1)
            await system.stack.start(service)
            record.did.append(f"{service} restarted")

    await under_load(system, record, fault, notify_killed=True)


async def test_postgresql_restarted(system: System) -> None:
    record = Record("PostgreSQL restarted")

    async def fault() -> None:
        await asyncio.to_thread(system.postgres.stop)
        record.did.append("PostgreSQL stopped (fast shutdown: open transactions roll back)")
        await asyncio.sleep(3)
        await asyncio.to_thread(system.postgres.start)
        record.did.append("PostgreSQL started again after 3s")

    await under_load(system, record, fault)


async def test_services_stopped_with_sigterm_drain_and_come_back(system: System) -> None:
    record = Record("services stopped with SIGTERM")

    async def fault() -> None:
        for service in ("intake", "routing"):
            started = time.monotonic()
            code = system.stack.stop(service, signal.SIGTERM)
            took = time.monotonic() - started
            try:
                # uvicorn ends by re-raising the signal it handled: -SIGTERM after a clean stop.
                assert code in (0, -signal.SIGTERM), f"{service} exited with {code} on SIGTERM"
                log = (system.log_dir / f"{service}.log").read_text()
                last = log.rstrip().rsplit("\n", 1)[-1]
                assert "Finished server process" in last, f"{service} did not drain: {last}"
                left = await _outbox_rows(system, service)
                assert left == 0, f"{service} left {left} events on its outbox"
                record.did.append(
                    f"{service} stopped with SIGTERM under load: drained and exited in "
                    f"{took:.1f}s, outbox flushed ({left} rows left)"
                )
            finally:  # the next scenarios need it running, whatever was found here
                await asyncio.sleep(1)
                await system.stack.start(service)
            record.did.append(f"{service} restarted")

    await under_load(system, record, fault)


async def test_tracking_restored_from_a_backup_taken_under_load(system: System) -> None:
    """What an operator does when tracking's database is lost: restore last night's backup
    and rewind tracking's consumer group to before it (deploy/README.md, "Backups"). The
    events archived after the backup are on the topic still: read again, the archive takes
    each once and its chain goes on from the backup's end; the alerts the restored database
    forgot are made again as the same events."""
    record = Record("tracking's database restored from a backup")
    url = system.stack.env_for("tracking")["TRACKING_DATABASE_URL"]
    dump = system.log_dir / "tracking.dump"

    async def fault() -> None:
        taken = datetime.now(UTC)
        await backup(url, dump)
        record.did.append(
            f"tracking's database backed up under load ({dump.stat().st_size // 1024} kB)"
        )
        await asyncio.sleep(3)  # tracking goes on archiving what the backup will not hold
        system.stack.stop("tracking", signal.SIGTERM)
        await restore(url, dump)
        record.did.append("3 s later: tracking stopped, its database restored from the backup")
        rewound = await asyncio.to_thread(
            subprocess.run,
            [
                sys.executable,
                "-m",
                "devstack",
                "rewind-consumer",
                "tracking",
                "--to",
                (taken - timedelta(seconds=10)).isoformat(),
            ],
            env={**os.environ, **system.stack.env_for("tracking")},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert rewound.returncode == 0, rewound.stdout + rewound.stderr
        record.did.append(
            "`devstack rewind-consumer tracking` to 10 s before the backup: "
            + rewound.stdout.strip().rsplit("\n", 1)[-1].split(": ", 1)[-1]
        )
        await system.stack.start("tracking")
        record.did.append("tracking started again")

    await under_load(system, record, fault)


async def test_messages_delivered_twice_and_out_of_order(system: System) -> None:
    record = Record("messages delivered twice, out of order, across partitions")
    copies: list[int] = []

    async def fault() -> None:
        messages = await _read_topic(system.stack.bootstrap, system.stack.topic)
        producer = AIOKafkaProducer(bootstrap_servers=system.stack.bootstrap)
        await producer.start()
        try:
            # Newest first, each under a new key: they land on other partitions than their
            # originals, and a request's events arrive in the reverse of their order.
            for value, headers in reversed(messages):
                await producer.send_and_wait(
                    system.stack.topic, value=value, key=uuid.uuid4().bytes, headers=headers
                )
        finally:
            await producer.stop()
        copies.append(len(messages))
        record.did.append(
            f"{len(messages)} events already consumed published again, newest first, "
            "under new keys (other partitions)"
        )

    await under_load(system, record, fault)
    assert copies and copies[0] > 0


async def test_poison_messages_go_to_the_dead_letter_topic_with_their_reason(
    system: System,
) -> None:
    record = Record("poison messages")
    valid = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "/mla/intake"}
    # What each poison is to: one that is no CloudEvent is poison to every consumer; an
    # event whose payload is broken, only to those that read events of its kind (routing
    # passes its own `routed` over unread).
    everyone = set(CONSUMERS)
    routed_readers = everyone - {"routing"}
    poisons = [
        b"\x00\xffnot json at all",
        json.dumps({"hello": "a JSON document, not a CloudEvent"}).encode(),
        json.dumps(
            valid
            | {
                "type": "mla.request.routed",
                "subject": "r-1",
                "time": "2026-11-29T10:00:00+00:00",
                "datacontenttype": "application/json",
                "data": {"assignments": "not a list"},
            }
        ).encode(),
    ]
    poisoned = dict(zip(poisons, (everyone, everyone, routed_readers), strict=True))

    async def fault() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=system.stack.bootstrap)
        await producer.start()
        try:
            for poison in poisons:
                await producer.send_and_wait(system.stack.topic, value=poison, key=b"poison")
        finally:
            await producer.stop()
        record.did.append(f"{len(poisons)} poison messages published amid the load")

    await under_load(system, record, fault)

    dlq = f"{system.stack.topic}.dlq"
    deadline = time.monotonic() + 60
    while True:
        dead = await _read_topic(system.stack.bootstrap, dlq)
        lettered = {
            (value, dict(headers).get("dlq-consumer-group", b"").decode())
            for value, headers in dead
            if value in poisons and dict(headers).get("dlq-reason")
        }
        expected = {
            (poison, f"{system.stack.topic}-{service}")
            for poison, services in poisoned.items()
            for service in services
        }
        if expected <= lettered or time.monotonic() > deadline:
            break
        await asyncio.sleep(1)
    assert expected <= lettered, f"not dead-lettered: {len(expected - lettered)}"
    record.found["dead-letter topic"] = (
        f"{len(expected)} dead letters, each with its reason: {len(poisons)} poisons, each "
        "from every consumer group that reads its kind"
    )
    # What an operator alerted by MlaDeadLetters runs: routing's, listed with their reasons.
    routing_group = f"{system.stack.topic}-routing"
    listed = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "devstack", "dead-letters", "routing"],
        env={**os.environ, **system.stack.env_for("routing")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stdout + listed.stderr
    routing_letters = sum(
        dict(headers).get("dlq-consumer-group") == routing_group.encode() for _, headers in dead
    )
    summary = listed.stdout.strip().rsplit("\n", 1)[-1]
    assert summary == f"{routing_letters} dead letters on {dlq}", listed.stdout
    assert listed.stdout.count("EnvelopeError") == routing_letters, listed.stdout
    record.found["listed for operators"] = f"`devstack dead-letters routing`: {summary}"
    record.save()


async def _read_topic(bootstrap: str, topic: str) -> list[tuple[bytes, list[tuple[str, bytes]]]]:
    """Every message on the topic now (all partitions, from the start), without a group."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not partitions:
            await consumer.client.force_metadata_update()
            partitions = [
                TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()
            ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        found: list[tuple[bytes, list[tuple[str, bytes]]]] = []
        for partition in partitions:
            while await consumer.position(partition) < ends[partition]:
                batch = await consumer.getmany(partition, timeout_ms=1000)
                for message in batch.get(partition, []):
                    if message.value is not None:
                        found.append((message.value, list(message.headers)))
        return found
    finally:
        await consumer.stop()


async def _outbox_rows(system: System, service: str) -> int:
    url = make_url(system.stack.database_urls[service]).set(drivername="postgresql")
    connection = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        return int(await connection.fetchval("SELECT count(*) FROM outbox"))
    finally:
        await connection.close()
