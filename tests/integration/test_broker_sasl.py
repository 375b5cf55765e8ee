"""A service reaches a broker over TLS and proves who it is by SCRAM-SHA-512, its password read
from a file as a Strimzi KafkaUser's Secret mounts it.

The broker is the embedded one; TLS and the SCRAM exchange are taken in front of it
(tests/support/tls.py and sasl.py say why), the rest of every connection is the broker's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.broker_connection import BrokerConnection, SaslCredentials, SaslMechanism
from shared.broker_connection import SecurityProtocol as Protocol
from shared.kafka import broker_reachable, ensure_topics
from shared.settings import ServiceSettings
from tests.support.consumers import publish, read_all
from tests.support.infra import unique
from tests.support.tls import TlsBroker, broker_behind_tls

pytestmark = pytest.mark.integration

USERS = {"mla-notify": "a long password the operator made"}


@pytest.fixture(scope="module")
def scram_broker(tmp_path_factory: pytest.TempPathFactory) -> TlsBroker:
    directory = tmp_path_factory.mktemp("pki")
    with broker_behind_tls(directory, client_certificates=False, scram_users=USERS) as broker:
        yield broker  # type: ignore[misc]


async def test_a_service_publishes_and_reads_as_its_scram_user(
    scram_broker: TlsBroker, tmp_path: Path
) -> None:
    password_file = tmp_path / "password"
    password_file.write_text(USERS["mla-notify"] + "\n", encoding="utf-8")
    settings = ServiceSettings(
        kafka_bootstrap_servers=scram_broker.bootstrap_servers,
        kafka_security_protocol=Protocol.SASL_SSL,
        kafka_ssl_cafile=scram_broker.authority.cafile,
        kafka_sasl_username="mla-notify",
        kafka_sasl_password_file=password_file,
    )
    topic = unique("mla.request-lifecycle.sasl").replace("_", "-")

    assert await broker_reachable(settings.broker)
    assert await ensure_topics(settings.broker, {topic: 2}) == [topic]
    await publish(settings.broker, topic, [b"over SCRAM"])
    assert [message.value for message in await read_all(settings.broker, topic, 1)] == [
        b"over SCRAM"
    ]


@pytest.mark.parametrize(
    ("user", "password", "mechanism"),
    [
        ("mla-notify", "not its password", SaslMechanism.SCRAM_SHA_512),
        ("nobody", USERS["mla-notify"], SaslMechanism.SCRAM_SHA_512),
        ("mla-notify", USERS["mla-notify"], SaslMechanism.PLAIN),  # not offered
    ],
)
async def test_the_broker_refuses_a_wrong_password_an_unknown_user_or_another_mechanism(
    scram_broker: TlsBroker, user: str, password: str, mechanism: SaslMechanism
) -> None:
    connection = BrokerConnection(
        scram_broker.bootstrap_servers,
        Protocol.SASL_SSL,
        cafile=scram_broker.authority.cafile,
        sasl=SaslCredentials(mechanism, user, password),
    )
    assert not await broker_reachable(connection)


async def test_without_sasl_the_broker_answers_nothing(scram_broker: TlsBroker) -> None:
    connection = BrokerConnection(
        scram_broker.bootstrap_servers, Protocol.SSL, cafile=scram_broker.authority.cafile
    )
    assert not await broker_reachable(connection)
