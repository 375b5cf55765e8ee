"""What a service put on the dead-letter topic, read back, and published again once its cause
is fixed (`python -m devstack dead-letters`; the alert `MlaDeadLetters` sends operators here).

A dead letter is the message as it was, with why in its `dlq-*` headers (shared/dead_letters.py).
Published again, it goes onto the lifecycle topic under its own key, into the partition the
services' relays would put it in, so that every consumer group reads it once more: the group
that gave up on it handles it now, and the others, which handled it the first time, skip it
as the copy it is (consumers record each event's `source` + `id`). A message that still
cannot be handled goes back to the dead-letter topic, nothing lost.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import orjson
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from shared.events.envelope import CONTENT_TYPE
from shared.kafka import make_producer
from shared.outbox import partition_of, spread_over
from shared.settings import ServiceSettings


@dataclass(frozen=True)
class DeadLetter:
    offset: int  # on the dead-letter topic
    group: str  # the consumer group that gave up on it
    reason: str
    error: str
    failed_at: str
    original: str  # where it was read from: topic[partition]@offset
    event_type: str | None  # None: not a CloudEvent at all
    key: bytes | None
    value: bytes | None

    @classmethod
    def of(cls, record: ConsumerRecord[bytes, bytes]) -> DeadLetter:
        headers = {name: value.decode(errors="replace") for name, value in record.headers}
        return cls(
            offset=record.offset,
            group=headers.get("dlq-consumer-group", ""),
            reason=headers.get("dlq-reason", ""),
            error=headers.get("dlq-error", ""),
            failed_at=headers.get("dlq-failed-at", ""),
            original=f"{headers.get('dlq-original-topic', '?')}"
            f"[{headers.get('dlq-original-partition', '?')}]"
            f"@{headers.get('dlq-original-offset', '?')}",
            event_type=_event_type(record.value),
            key=record.key,
            value=record.value,
        )


async def read_dead_letters(settings: ServiceSettings, group: str | None) -> list[DeadLetter]:
    """The dead letters on the topic now, oldest first: those `group` put there, or all."""
    reader = AIOKafkaConsumer(
        **settings.broker.client_options(), enable_auto_commit=False, request_timeout_ms=10_000
    )
    try:
        await reader.start()
        await reader.topics()  # the topic's metadata, when it exists
        partitions = [
            TopicPartition(settings.dlq_topic, partition)
            for partition in sorted(reader.partitions_for_topic(settings.dlq_topic) or ())
        ]
        if not partitions:
            return []
        reader.assign(partitions)
        await reader.seek_to_beginning(*partitions)
        ends = await reader.end_offsets(partitions)
        records: list[ConsumerRecord[bytes, bytes]] = []
        for tp in partitions:
            while await reader.position(tp) < ends[tp]:
                fetched = await reader.getmany(tp, timeout_ms=1000)
                records += fetched.get(tp, [])
    finally:
        await reader.stop()
    letters = [DeadLetter.of(record) for record in records]
    return [letter for letter in letters if group is None or letter.group == group]


async def publish_again(
    settings: ServiceSettings, letters: Collection[DeadLetter], client_id: str
) -> int:
    """Each letter back on the lifecycle topic, in its request's partition; how many. A
    message that several groups gave up on goes once: every group reads it again anyway."""
    unique = list({(letter.key, letter.value): letter for letter in letters}.values())
    producer = make_producer(settings.broker, client_id)
    try:
        await producer.start()
        partitions = await spread_over(producer, settings)
        for letter in unique:
            key = letter.key or b""
            headers = [("content-type", CONTENT_TYPE.encode())]
            if letter.event_type:
                headers.append(("ce_type", letter.event_type.encode()))
            await producer.send_and_wait(
                settings.topic,
                value=letter.value,
                key=letter.key,
                partition=partition_of(key, partitions),
                headers=headers,
            )
    finally:
        await producer.stop()
    return len(unique)


def _event_type(value: bytes | None) -> str | None:
    try:
        document = orjson.loads(value or b"")
    except orjson.JSONDecodeError:
        return None
    kind = document.get("type") if isinstance(document, dict) else None
    return kind if isinstance(kind, str) else None
