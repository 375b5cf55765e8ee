"""The dead-letter topic: where a consumer puts a message it cannot handle, as it was, with
why in its headers (`dlq-*`, described in the AsyncAPI document: shared/asyncapi.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import structlog
from aiokafka import AIOKafkaProducer, ConsumerRecord

from shared.backoff import Backoff
from shared.kafka import TRANSIENT_KAFKA_ERRORS, make_producer
from shared.metrics import EVENTS_CONSUMED
from shared.settings import ServiceSettings

log = structlog.get_logger("shared.consumer")

Wait = Callable[[float, str], Awaitable[None]]


class DeadLetters:
    """The dead-letter producer of one consumer group, started on first use."""

    def __init__(self, settings: ServiceSettings, group_id: str, wait: Wait) -> None:
        self._settings = settings
        self._group_id = group_id
        # The consumer's wait between attempts: it ends early, raising, when it stops.
        self._wait = wait
        self._producer: AIOKafkaProducer | None = None

    async def send(self, message: ConsumerRecord[bytes, bytes], *, reason: str, error: str) -> None:
        """Put `message` on the dead-letter topic; a broker outage delays it, never drops it."""
        headers = [
            ("dlq-reason", reason.encode()),
            ("dlq-error", error.encode()),
            ("dlq-original-topic", message.topic.encode()),
            ("dlq-original-partition", str(message.partition).encode()),
            ("dlq-original-offset", str(message.offset).encode()),
            ("dlq-consumer-group", self._group_id.encode()),
            ("dlq-failed-at", datetime.now(UTC).isoformat().encode()),
        ]
        backoff = Backoff(self._settings.retry_initial_seconds, self._settings.retry_max_seconds)
        while True:
            try:
                if self._producer is None:
                    self._producer = make_producer(self._settings.broker, self._group_id)
                    await self._producer.start()
                await self._producer.send_and_wait(
                    self._settings.dlq_topic, value=message.value, key=message.key, headers=headers
                )
                break
            except TRANSIENT_KAFKA_ERRORS as exc:
                await self.close()
                await self._wait(backoff.next_delay(), type(exc).__name__)
        EVENTS_CONSUMED.labels("unknown", "dead_lettered").inc()
        log.warning(
            "consumer.dead_lettered",
            partition=message.partition,
            offset=message.offset,
            error=error,
            reason=reason,
        )

    async def close(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            # A producer whose broker vanished can hang on stop: bounded.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.stop(), 5)
