"""Broker plumbing: clients, topic provisioning, reachability.

Written for any Kafka: no idempotent producer and no transactions are assumed (the embedded
broker has neither); the outbox and idempotent consumers give effectively-once effects.
"""

from __future__ import annotations

import asyncio
import contextlib

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

# Errors of the broker connection: the work waits and is retried, never dropped.
TRANSIENT_KAFKA_ERRORS: tuple[type[BaseException], ...] = (
    KafkaError,
    ConnectionError,
    OSError,
    asyncio.TimeoutError,
)


def make_producer(bootstrap_servers: str, client_id: str) -> AIOKafkaProducer:
    """A producer that waits for every in-sync replica and keeps per-partition order."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=False,
        linger_ms=2,
        request_timeout_ms=10_000,
        retry_backoff_ms=200,
    )


async def ensure_topics(
    bootstrap_servers: str, topics: dict[str, int], *, replication_factor: int = 1
) -> list[str]:
    """Create the topics that are missing (name -> partitions); returns those created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=10_000)
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


async def broker_reachable(bootstrap_servers: str, timeout: float = 2.0) -> bool:
    """True when the broker answers a metadata request within `timeout` seconds."""
    client = AIOKafkaClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=2_000)
    try:
        await asyncio.wait_for(client.bootstrap(), timeout)
        return True
    except TRANSIENT_KAFKA_ERRORS:
        return False
    finally:
        await client.close()


async def topic_is_empty(bootstrap_servers: str, topic: str) -> bool:
    """True when the topic exists and no message was ever written to it (every partition's
    end offset is 0): a broker that has just lost, or never had, its log."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, request_timeout_ms=10_000)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            await consumer.topics()  # refreshes metadata
            partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            return False
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
        return all(offset == 0 for offset in ends.values())
    finally:
        await consumer.stop()
