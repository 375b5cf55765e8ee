"""Moving a service's consumer group back in the topic, to a moment: what a service whose
database was restored from a backup needs to read again what it had handled after the backup.

The group's committed offsets are where the live database was; the restored database is
where the backup was. Rewound to a moment before the backup, the service reads again what
came after it: what the backup already holds it skips (its `processed_events` were restored
with it), the rest it handles, and nothing is missed. Rewinding further back costs only the
reading. A partition is never moved forward (that would skip what the service has not
handled), and one the group never committed is left alone (the service reads it from the
beginning anyway).

The rewind joins the group as its only member, so every instance of the service must be
stopped first; it refuses, saying so, when another member holds partitions.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CommitFailedError

from shared.settings import ServiceSettings


class GroupInUseError(RuntimeError):
    """Another member holds partitions of the group: the service is still running."""


@dataclass(frozen=True)
class Rewound:
    partition: int
    committed: int | None  # None: the group never committed it (left alone)
    offset: int | None  # where the group reads it from now

    @property
    def again(self) -> int:
        """How many messages the group will read again in this partition."""
        if self.committed is None or self.offset is None:
            return 0
        return self.committed - self.offset


async def rewind_group(
    settings: ServiceSettings, group: str, to: datetime, *, join_timeout: float = 60
) -> list[Rewound]:
    """Move `group`'s offsets on the service's topic back to the first message sent at or
    after `to` (timezone-aware), never forward; what each partition went from and to."""
    if to.tzinfo is None:
        raise ValueError("the moment to rewind to needs its time zone (e.g. ...Z or +01:00)")
    consumer = AIOKafkaConsumer(
        settings.topic,
        **settings.broker.client_options(),
        group_id=group,
        client_id=f"{group}-rewind",
        enable_auto_commit=False,
        session_timeout_ms=settings.consumer_session_timeout_ms,
        rebalance_timeout_ms=settings.consumer_rebalance_timeout_ms,
        heartbeat_interval_ms=settings.consumer_heartbeat_ms,
    )
    try:
        await consumer.start()
        held = await _joined(consumer, join_timeout)
        partitions = consumer.partitions_for_topic(settings.topic) or set()
        others = partitions - {tp.partition for tp in held}
        if others:
            raise GroupInUseError(
                f"another member of {group} holds partitions {sorted(others)} of "
                f"{settings.topic}: stop every instance of the service first"
            )
        ordered = sorted(held, key=lambda tp: tp.partition)
        moment = int(to.timestamp() * 1000)
        at = await consumer.offsets_for_times({tp: moment for tp in ordered})
        ends = await consumer.end_offsets(ordered)
        rewound: list[Rewound] = []
        moves: dict[TopicPartition, int] = {}
        for tp in ordered:
            committed = await consumer.committed(tp)
            if committed is None:
                rewound.append(Rewound(tp.partition, None, None))
                continue
            # The first message sent at or after the moment; none: the partition's end. (The
            # embedded broker answers a moment after its last message with its first one,
            # sent earlier: that is no answer either.)
            found = at[tp]
            first = ends[tp] if found is None or found.timestamp < moment else found.offset
            target = min(committed, first)
            moves[tp] = target
            rewound.append(Rewound(tp.partition, committed, target))
        if moves:
            try:
                await consumer.commit(moves)
            except CommitFailedError as exc:
                raise GroupInUseError(
                    f"{group} changed while it was being rewound (an instance of the service "
                    "started?): nothing was moved; stop every instance and run it again"
                ) from exc
        return rewound
    finally:
        await consumer.stop()


async def _joined(consumer: AIOKafkaConsumer, timeout: float) -> set[TopicPartition]:
    """The partitions the group gave this member, once it gave some. A member that stopped
    without leaving is waited for until the broker drops it (its session timeout)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not consumer.assignment():
        if asyncio.get_running_loop().time() > deadline:
            raise GroupInUseError(f"the group gave no partitions within {timeout:g}s")
        await asyncio.sleep(0.1)
    return set(consumer.assignment())
