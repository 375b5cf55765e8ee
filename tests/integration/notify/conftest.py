"""notify in-process on the real PostgreSQL and broker, fed with real CloudEvents."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from services.notify.settings import Settings
from shared.events.envelope import CloudEvent
from tests.integration.notify.harness import FAST
from tests.support.infra import fresh_database, fresh_topic, unique


@pytest.fixture
async def notify_settings(kafka: str) -> Settings:
    return Settings(
        database_url=await fresh_database("notify"),
        kafka_bootstrap_servers=kafka,
        topic=await fresh_topic(kafka),
        consumer_group=unique("notify"),
        **FAST,
    )


@pytest.fixture
async def publish(kafka: str, notify_settings: Settings) -> AsyncIterator[Any]:
    """Publish CloudEvents to the test topic, keyed by request id, as the outbox does."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka)
    await producer.start()

    async def send(*events: CloudEvent) -> None:
        for event in events:
            await producer.send_and_wait(
                notify_settings.topic, value=event.to_bytes(), key=event.subject.encode()
            )

    yield send
    await producer.stop()
