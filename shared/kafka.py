"""Broker plumbing: clients, topic provisioning, reachability.

Written for any Kafka: no idempotent producer and no transactions are assumed (the embedded
broker has neither); the outbox and idempotent consumers give effectively-once effects.
"""

from __future__ import annotations

import asyncio
import contextlib
import zlib

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from shared.broker_connection import BrokerConnection

# The largest event the topic carries. Kafka's defaults take a message of up to 1 MiB (the
# broker's `message.max.bytes`, a producer's `max.request.size`, and a consumer's fetch size
# per partition, past which the embedded broker returns no batch at all): an event beyond
# it could never be published, and would stop its outbox with every later event behind it.
# Room is left for the record batch around it.
MAX_EVENT_BYTES = 1_000_000

# Errors of the broker connection: the work waits and is retried, never dropped.
TRANSIENT_KAFKA_ERRORS: tuple[type[BaseException], ...] = (
    KafkaError,
    ConnectionError,
    OSError,
    asyncio.TimeoutError,
)


# Every function below takes the broker as a `BrokerConnection` (how the services reach it, from
# their settings) or as a bare `host:port` list, reached in the clear (one machine, tests).
Broker = BrokerConnection | str


def make_producer(broker: Broker, client_id: str) -> AIOKafkaProducer:
    """A producer that waits for every in-sync replica and keeps per-partition order."""
    return AIOKafkaProducer(
        **BrokerConnection.of(broker).client_options(),
        client_id=client_id,
        acks="all",
        enable_idempotence=False,
        # The relay sends what it read from the outbox at once and waits for it: lingering
        # for more would only delay every hop of every event.
        linger_ms=0,
        request_timeout_ms=10_000,
        retry_backoff_ms=200,
    )


async def ensure_topics(
    broker: Broker, topics: dict[str, int], *, replication_factor: int = 1
) -> list[str]:
    """Create the topics that are missing (name -> partitions); returns those created."""
    admin = AIOKafkaAdminClient(
        **BrokerConnection.of(broker).client_options(), request_timeout_ms=10_000
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(name, num_partitions=partitions, replication_factor=replication_factor)
            for name, partitions in topics.items()
            if name not in existing
        ]
        if missing:
            # Another instance may create it between our list and our create.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
        return [topic.name for topic in missing]
    finally:
        await admin.close()


async def broker_reachable(broker: Broker, timeout: float = 2.0) -> bool:
    """True when the broker answers a metadata request within `timeout` seconds (over the
    channel, and with the identity, configured: a refused certificate or password is False)."""
    client = AIOKafkaClient(
        **BrokerConnection.of(broker).client_options(), request_timeout_ms=2_000
    )
    try:
        await asyncio.wait_for(client.bootstrap(), timeout)
        return True
    except TRANSIENT_KAFKA_ERRORS:
        return False
    finally:
        await client.close()


async def end_offsets(broker: Broker, topic: str) -> dict[int, int]:
    """The end offset of each partition of the topic ({} when it does not exist)."""
    consumer = AIOKafkaConsumer(
        **BrokerConnection.of(broker).client_options(), request_timeout_ms=10_000
    )
    try:
        await consumer.start()
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            await consumer.topics()  # refreshes metadata
            partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            return {}
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
        return {tp.partition: offset for tp, offset in ends.items()}
    finally:
        await consumer.stop()


async def messages_replaced(
    broker: Broker, marks: dict[TopicPartition, tuple[int, int]]
) -> set[TopicPartition]:
    """The partitions whose message at a marked offset is not the marked one any more (by
    `message_mark`): the broker lost its log and writes a new one (the embedded broker keeps
    nothing across a restart). A Kafka that keeps its log answers the empty set."""
    consumer = AIOKafkaConsumer(
        **BrokerConnection.of(broker).client_options(),
        enable_auto_commit=False,
        auto_offset_reset="latest",  # an offset past the end reads nothing: replaced
        request_timeout_ms=10_000,
    )
    try:
        await consumer.start()
        replaced = set()
        for tp, mark in marks.items():
            consumer.assign([tp])
            consumer.seek(tp, mark[0])
            records = (await consumer.getmany(tp, timeout_ms=2000, max_records=1)).get(tp, [])
            if not records or record_mark(records[0]) != mark:
                replaced.add(tp)
        return replaced
    finally:
        await consumer.stop()


def message_mark(offset: int, value: bytes | None, timestamp: int) -> tuple[int, int]:
    """What `messages_replaced` compares: the offset, and a CRC-32 of the value and the
    timestamp. The value alone cannot tell a new log from the old one: the relays publish
    their history again into a new log, the same bytes, and the same event can come to
    stand at the same offset. Its timestamp is the moment it was sent again (or appended,
    on a topic that keeps the broker's time), which no copy in the old log carries."""
    return offset, zlib.crc32(timestamp.to_bytes(8, "big", signed=True), zlib.crc32(value or b""))


def record_mark(record: ConsumerRecord[bytes, bytes]) -> tuple[int, int]:
    """The mark (`message_mark`) of a message read from the broker."""
    return message_mark(record.offset, record.value, record.timestamp)
