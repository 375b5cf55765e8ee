"""Two instances of each consuming service, sharing the topic's partitions in their consumer
groups: one added under load, then one killed under load. Each rebalance moves partitions
between instances while events flow; after each, every promise is checked as after any
fault (nothing lost, nothing twice, replay equals live, the archive verifies), and so is
each group's committed offset of every partition (up to its last message). Each instance's
partitions and handled events are recorded."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from shared.kafka import end_offsets
from tests.faults.conftest import Record, System
from tests.faults.scenario import under_load
from tests.support.auth import bearer
from tests.support.stack import RunningStack, instance_name

pytestmark = pytest.mark.faults

SCALED = ("routing", "tracking", "notify")
PARTITIONS = 3  # TOPIC_PARTITIONS of tests/support/stack.py
# Joins on the embedded broker take seconds; a dead member is noticed after the session
# timeout (2 s in the tests).
SETTLE_SECONDS = 60


async def test_a_second_instance_of_each_consumer_shares_the_partitions(system: System) -> None:
    record = Record("second instance of routing, tracking, notify added under load")
    stack = system.stack
    partitions = set(await end_offsets(stack.bootstrap, stack.topic))
    assert partitions == set(range(PARTITIONS)), f"the topic has partitions {partitions}"
    both = [(service, instance) for service in SCALED for instance in (1, 2)]
    before = {(service, 1): await _consumed(stack, service, 1) for service in SCALED}

    async def fault() -> None:
        await asyncio.gather(*(stack.start(service, instance=2) for service in SCALED))
        record.did.append(
            "routing-2, tracking-2 and notify-2 started under load: same databases, topic "
            "and consumer groups as the first instances"
        )
        took = await _until(lambda: _shared_out(stack, both), "the partitions shared")
        record.did.append(
            f"the three groups rebalanced, each instance holding partitions, {took:.1f}s after"
        )
        rebalanced = {key: await _consumed(stack, *key) for key in both}
        await _until(
            lambda: _each_handles(stack, rebalanced), "every instance handling events after it"
        )

    await under_load(system, record, fault)

    for service in SCALED:
        shares = []
        for instance in (1, 2):
            # Since the scenario began: the second instance started in it.
            consumed = await _consumed(stack, service, instance)
            consumed -= before.get((service, instance), Counter())
            shares.append(
                f"#{instance} partitions {_assigned(stack, service, instance)}: "
                f"{consumed['handled']} handled, {consumed['duplicate']} redelivered"
            )
        record.found[f"{service} instances"] = "; ".join(shares)
    record.found["offsets committed"] = await _committed_to_the_end(stack)
    record.save()


async def test_one_of_two_instances_killed_the_survivor_takes_its_partitions(
    system: System,
) -> None:
    record = Record("one of two instances of routing, tracking, notify killed (SIGKILL)")
    stack = system.stack
    # Two instances each, as the scenario before leaves them (started here when run alone).
    await asyncio.gather(
        *(stack.start(s, instance=2) for s in SCALED if not stack.running(s, instance=2))
    )
    both = [(service, instance) for service in SCALED for instance in (1, 2)]
    await _until(lambda: _shared_out(stack, both), "the partitions shared")
    survivors = [(service, 1) for service in SCALED]
    before: dict[tuple[str, int], Counter[str]] = {}

    async def fault() -> None:
        for service in SCALED:
            held = _assigned(stack, service, 2)
            handled = (await _consumed(stack, service, 2))["handled"]
            before[service, 1] = await _consumed(stack, service, 1)
            stack.stop(service, signal.SIGKILL, instance=2)
            record.did.append(
                f"{service}-2 killed with SIGKILL under load, holding partitions {held} "
                f"({handled} events handled), {service} #1 holding "
                f"{_assigned(stack, service, 1)}"
            )
        took = await _until(lambda: _shared_out(stack, survivors), "every partition taken over")
        record.did.append(
            f"each survivor took over every partition {took:.1f}s after the kills; "
            "one instance each left, as the next scenarios expect"
        )

    await under_load(system, record, fault, notify_killed=True)

    for key in survivors:
        consumed = await _consumed(stack, *key) - before[key]
        record.found[f"{key[0]} survivor"] = (
            f"partitions {_assigned(stack, *key)}: {consumed['handled']} handled, "
            f"{consumed['duplicate']} redelivered"
        )
    record.found["offsets committed"] = await _committed_to_the_end(stack)
    record.save()


async def _until(missing: Callable[[], Awaitable[str]], what: str) -> float:
    """Wait until nothing is `missing` (it answers what still is, or ''); how long it took."""
    started = time.monotonic()
    while still := await missing():
        if time.monotonic() - started > SETTLE_SECONDS:
            raise AssertionError(f"{what}: not within {SETTLE_SECONDS}s: {still}")
        await asyncio.sleep(0.2)
    return time.monotonic() - started


def _assigned(stack: RunningStack, service: str, instance: int) -> list[int]:
    """The partitions the instance's consumer holds: those of its last `consumer.assigned`
    line (each rebalance logs the whole new assignment)."""
    held: list[int] = []
    for line in stack.log_lines(service, instance):
        if '"consumer.assigned"' in line:
            held = sorted(json.loads(line)["partitions"])
    return held


async def _shared_out(stack: RunningStack, instances: list[tuple[str, int]]) -> str:
    """In each service's group, the given instances share every partition: each holds some,
    no two the same one."""
    by_service: dict[str, list[list[int]]] = {}
    for service, instance in instances:
        by_service.setdefault(service, []).append(_assigned(stack, service, instance))
    unsettled = {
        service: held
        for service, held in by_service.items()
        if not all(held) or sorted(p for part in held for p in part) != list(range(PARTITIONS))
    }
    return f"held: {unsettled}" if unsettled else ""


async def _each_handles(stack: RunningStack, since: dict[tuple[str, int], Counter[str]]) -> str:
    idle = [
        instance_name(*key)
        for key, before in since.items()
        if (await _consumed(stack, *key))["handled"] <= before["handled"]
    ]
    return f"nothing handled yet by {idle}" if idle else ""


async def _committed_to_the_end(stack: RunningStack) -> str:
    """Wait until each group has committed every partition up to its last message: the
    members that kept partitions through the rebalances go on committing them."""
    partitions = [TopicPartition(stack.topic, p) for p in range(PARTITIONS)]
    reader = AIOKafkaConsumer(bootstrap_servers=stack.bootstrap, enable_auto_commit=False)
    groups = {
        service: AIOKafkaConsumer(
            bootstrap_servers=stack.bootstrap,
            group_id=f"{stack.topic}-{service}",  # the group's offsets, without joining it
            enable_auto_commit=False,
        )
        for service in SCALED
    }
    ends: dict[TopicPartition, int] = {}

    async def behind() -> str:
        ends.update(await _log_ends(reader, partitions))
        late = {
            f"{service} {tp.partition}": (committed, ends[tp])
            for service, group in groups.items()
            for tp in partitions
            if (committed := await group.committed(tp)) != ends[tp]
        }
        return f"(committed, end): {late}" if late else ""

    for consumer in (reader, *groups.values()):
        await consumer.start()
    try:
        reader.assign(partitions)
        await _until(behind, "offsets committed up to the end")
    finally:
        for consumer in (reader, *groups.values()):
            await consumer.stop()
    return f"every group up to the end of every partition ({sum(ends.values())} messages)"


async def _log_ends(
    reader: AIOKafkaConsumer, partitions: list[TopicPartition]
) -> dict[TopicPartition, int]:
    """The offset after each partition's last message. Read, not only asked: the embedded
    broker answers with the offset after the first message of the last record batch."""
    ends: dict[TopicPartition, int] = await reader.end_offsets(partitions)
    for tp in partitions:
        reader.seek(tp, max(ends[tp] - 1, 0))
        while records := (await reader.getmany(tp, timeout_ms=300)).get(tp):
            ends[tp] = records[-1].offset + 1
    return ends


async def _consumed(stack: RunningStack, service: str, instance: int) -> Counter[str]:
    """Events the instance has taken from the topic since it started, by outcome (handled,
    duplicate, dead_lettered): its `mla_events_consumed_total`."""
    async with httpx.AsyncClient(timeout=10, headers=bearer("operator")) as http:
        response = await http.get(f"{stack.url(service, instance)}/metrics")
    response.raise_for_status()
    outcomes: Counter[str] = Counter()
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == "mla_events_consumed_total":
                outcomes[sample.labels["outcome"]] += int(sample.value)
    return outcomes
