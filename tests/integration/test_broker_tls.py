"""A service reaches a production broker over TLS and proves who it is with its certificate.

The broker is the embedded one behind a TLS terminator that checks client certificates
against the cluster's CA (tests/support/tls.py says why), the database the real PostgreSQL.
Every kind of client a service opens is built from its settings' `broker`: the relay's
producer, the consumer, the dead-letter producer, the admin that provisions the topic, the
looks at the log and the readiness check; none of them reaches this broker any other way.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiokafka import TopicPartition

from services.intake.adapters.tables import events, outbox
from shared.broker_connection import BrokerConnection, SecurityProtocol
from shared.broker_tls import ClientCertificate, TlsFilesError
from shared.db import UnitOfWork, create_engine, session_factory
from shared.events.catalogue import RequestWithdrawn, new_event
from shared.eventstore import EventStore
from shared.kafka import (
    broker_reachable,
    end_offsets,
    ensure_topics,
    make_producer,
    messages_replaced,
    record_mark,
)
from shared.outbox import OutboxRelay
from shared.settings import ServiceSettings
from tests.support.consumers import at_least, member, publish, read_all, settings_for
from tests.support.infra import eventually, fresh_database, unique
from tests.support.tls import Authority, TlsBroker, broker_behind_tls

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tls_broker(tmp_path_factory: pytest.TempPathFactory) -> TlsBroker:
    with broker_behind_tls(tmp_path_factory.mktemp("pki"), client_certificates=True) as broker:
        yield broker  # type: ignore[misc]


def service_settings(tls_broker: TlsBroker, topic: str, user: str) -> ServiceSettings:
    """A service's settings as deploy/ gives them: SSL, the cluster's CA, its own certificate."""
    certificate = tls_broker.authority.client(user)
    return settings_for(
        tls_broker.bootstrap_servers,
        topic,
        kafka_security_protocol=SecurityProtocol.SSL,
        kafka_ssl_cafile=tls_broker.authority.cafile,
        kafka_ssl_certfile=certificate.certfile,
        kafka_ssl_keyfile=certificate.keyfile,
        outbox_poll_seconds=0.1,
    )


async def test_a_service_publishes_consumes_and_dead_letters_over_mutual_tls(
    tls_broker: TlsBroker, database: tuple[object, object]
) -> None:
    _, consumer_sessions = database
    topic = unique("mla.request-lifecycle.tls").replace("_", "-")
    intake = service_settings(tls_broker, topic, "mla-intake")
    routing = service_settings(tls_broker, topic, "mla-routing")
    assert await broker_reachable(intake.broker)
    assert await ensure_topics(intake.broker, {topic: 3, f"{topic}.dlq": 1}) == [
        topic,
        f"{topic}.dlq",
    ]

    # intake's side: three withdrawals committed to its outbox, published by its relay.
    engine = create_engine(await fresh_database("intake"))
    sessions = session_factory(engine)
    relay = OutboxRelay(
        sessions=sessions,
        outbox=outbox,
        settings=intake,
        producer_factory=lambda: make_producer(intake.broker, "mla-intake"),
        service="intake",
    )
    store = EventStore(events, outbox)
    for request_id in [unique("req") for _ in range(3)]:
        async with UnitOfWork(sessions, on_commit=relay.wake) as uow:
            event = new_event(RequestWithdrawn(request_id=request_id), source="/mla/test")
            await store.append(uow.session, request_id, 0, [event])
            await uow.commit()
    # And a message no service can read.
    await publish(intake.broker, topic, [b"{not json"], key=b"poison")

    # routing's side: its consumer takes the three in, and dead-letters the poison.
    consumer = member(consumer_sessions, routing)
    tasks = [asyncio.create_task(relay.run()), asyncio.create_task(consumer.run())]
    try:
        await eventually(lambda: at_least(consumer_sessions, 3), what="three effects")
        dead = await read_all(routing.broker, f"{topic}.dlq", expected=1)
    finally:
        relay.stop()
        consumer.stop()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
        await engine.dispose()
    assert [message.value for message in dead] == [b"{not json"]
    assert "not JSON" in dict(dead[0].headers)["dlq-reason"].decode()

    # The looks at the log the relay and the consumer take after an outage.
    assert set(await end_offsets(routing.broker, topic)) == {0, 1, 2}
    first = (await read_all(routing.broker, topic, expected=4))[0]
    mark = {TopicPartition(topic, first.partition): record_mark(first)}
    assert await messages_replaced(routing.broker, mark) == set()


async def test_the_broker_refuses_a_client_without_its_certificate_or_in_the_clear(
    tls_broker: TlsBroker,
) -> None:
    trusted = tls_broker.authority.cafile
    bootstrap = tls_broker.bootstrap_servers
    assert not await broker_reachable(
        BrokerConnection(bootstrap, SecurityProtocol.SSL, cafile=trusted)
    ), "no client certificate"
    assert not await broker_reachable(BrokerConnection(bootstrap)), "in the clear"
    user = tls_broker.authority.client("mla-notify")
    certificate = ClientCertificate(user.certfile, user.keyfile)
    assert await broker_reachable(
        BrokerConnection(bootstrap, SecurityProtocol.SSL, trusted, certificate)
    )


async def test_a_service_refuses_a_broker_whose_certificate_its_ca_did_not_sign(
    tls_broker: TlsBroker, tmp_path: Path
) -> None:
    impostor_ca = Authority(tmp_path, "other").cafile
    user = tls_broker.authority.client("mla-tracking")
    connection = BrokerConnection(
        tls_broker.bootstrap_servers,
        SecurityProtocol.SSL,
        cafile=impostor_ca,
        client_certificate=ClientCertificate(user.certfile, user.keyfile),
    )
    assert not await broker_reachable(connection)


async def test_a_renewed_certificate_is_presented_from_the_next_connection_without_a_restart(
    tls_broker: TlsBroker,
) -> None:
    """As Strimzi's User Operator renews a user's certificate: the mounted files change under
    the running service, which takes them at its next look (every minute)."""
    authority, presented = tls_broker.authority, tls_broker.terminator.presented
    first = authority.client("mla-renewed")
    connection = BrokerConnection(
        tls_broker.bootstrap_servers,
        SecurityProtocol.SSL,
        cafile=authority.cafile,
        client_certificate=ClientCertificate(first.certfile, first.keyfile),
    )
    assert await broker_reachable(connection)
    assert first.serial in presented
    assert connection.tls is not None and not connection.tls.reload_if_changed()

    renewed = authority.client("mla-renewed")  # the same files, a new certificate and key
    assert connection.tls.reload_if_changed()
    before = len(presented)
    assert await broker_reachable(connection)
    assert set(presented[before:]) == {renewed.serial}

    # Caught half-written: the certificate of the next renewal, its key not yet.
    first.certfile.write_bytes(authority.client("mla-next").certfile.read_bytes())
    with pytest.raises(TlsFilesError, match="mla-renewed"):
        connection.tls.reload_if_changed()
    before = len(presented)
    assert await broker_reachable(connection), "the context kept the pair it had"
    assert set(presented[before:]) == {renewed.serial}
