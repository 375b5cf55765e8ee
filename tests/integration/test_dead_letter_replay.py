"""What a service put on the dead-letter topic, read back with its reasons and published again
once the cause is fixed, on the real broker and PostgreSQL (`python -m devstack dead-letters`,
shared/dead_letter_replay.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import pytest

from devstack.__main__ import main as devstack_main
from devstack.broker import free_port
from shared.dead_letter_replay import DeadLetter, publish_again, read_dead_letters
from shared.events.catalogue import Payload
from shared.events.envelope import CloudEvent
from tests.support.consumers import (
    at_least,
    count_effects,
    member,
    publish,
    record_effect,
    settings_for,
    withdrawal,
)
from tests.support.infra import eventually, fresh_topic, unique

pytestmark = pytest.mark.integration


async def test_a_message_dead_lettered_for_a_cause_since_fixed_is_handled_when_published_again(
    kafka: str, database: tuple[object, object]
) -> None:
    _, sessions = database
    topic = await fresh_topic(kafka)
    settings = settings_for(kafka, topic)
    group = unique("group")
    await publish(kafka, topic, [withdrawal("req-broken"), b"{not json"], key=b"req-broken")
    await publish(kafka, topic, [withdrawal("req-fine")], key=b"req-fine")
    cause = {"fixed": False}

    async def fails_until_fixed(session: object, event: CloudEvent, payload: Payload) -> None:
        if payload.request_id == "req-broken" and not cause["fixed"]:
            raise ValueError("the office directory has no such office")
        await record_effect(session, event, payload)

    consumer = member(sessions, settings, group=group, handler=fails_until_fixed)
    task = asyncio.create_task(consumer.run())
    try:
        await eventually(lambda: _count(read_dead_letters(settings, group), 2), what="two")
        letters = await read_dead_letters(settings, group)
        (broken,) = [letter for letter in letters if letter.event_type is not None]
        (poison,) = [letter for letter in letters if letter.event_type is None]
        assert (broken.event_type, broken.error) == ("mla.request.withdrawn", "ValueError")
        assert "no such office" in broken.reason
        assert broken.original.startswith(f"{topic}[") and broken.group == group
        assert poison.event_type is None and "not JSON" in poison.reason
        assert await read_dead_letters(settings, "another-group") == []
        assert await count_effects(sessions) == 1  # req-fine only

        cause["fixed"] = True
        assert await publish_again(settings, [broken, poison], client_id="test") == 2

        await eventually(lambda: at_least(sessions, 2), what="req-broken handled at last")
        # What still cannot be handled is set aside again, nothing lost.
        await eventually(
            lambda: _count(read_dead_letters(settings, group), 3), what="the poison again"
        )
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 30)
    assert await count_effects(sessions) == 2


async def test_a_message_every_group_gave_up_on_is_published_again_once(
    kafka: str, database: tuple[object, object]
) -> None:
    _, sessions = database
    topic = await fresh_topic(kafka)
    settings = settings_for(kafka, topic)
    await publish(kafka, topic, [b"{not json"])
    first, second = member(sessions, settings), member(sessions, settings)
    tasks = [asyncio.create_task(first.run()), asyncio.create_task(second.run())]
    try:
        await eventually(
            lambda: _count(read_dead_letters(settings, None), 2), what="one from each group"
        )
    finally:
        first.stop()
        second.stop()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)

    letters = await read_dead_letters(settings, None)
    assert await publish_again(settings, letters, client_id="test") == 1


async def _count(letters: Awaitable[list[DeadLetter]], expected: int) -> bool:
    return len(await letters) == expected


@pytest.mark.parametrize(
    "command",
    [["dead-letters", "routing"], ["rewind-consumer", "routing", "--to", "2026-11-30T12:00:00Z"]],
)
def test_an_operator_command_says_plainly_when_it_cannot_reach_the_broker(
    command: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ROUTING_KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{free_port()}")
    assert devstack_main(command) == 2
    said = capsys.readouterr().out
    assert "did not answer: KafkaConnectionError" in said and "Traceback" not in said
