"""How a service is told to reach the broker: what its settings accept, and what they refuse.

Over TLS the connection is tested on a real broker (tests/integration/test_broker_tls.py);
here, the settings an operator writes: each way of reaching a broker that cannot work is
refused at start, naming the service's own variables and never echoing a password.
"""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from prometheus_client import REGISTRY
from pydantic import ValidationError

from services.intake.settings import Settings as IntakeSettings
from services.notify.settings import Settings as NotifySettings
from shared.broker_connection import (
    BrokerConnection,
    BrokerConnectionError,
    SaslCredentials,
    SaslMechanism,
    SecurityProtocol,
)
from shared.broker_tls import BrokerTls, ClientCertificate, TlsFilesError, certificate_watch
from tests.support.tls import Authority


def refusal(**settings: object) -> str:
    with pytest.raises(ValidationError) as refused:
        IntakeSettings(**settings)  # type: ignore[arg-type]
    return str(refused.value)


def test_on_one_machine_the_broker_is_reached_in_the_clear() -> None:
    options = IntakeSettings(kafka_bootstrap_servers="127.0.0.1:9092").broker.client_options()
    assert options == {"bootstrap_servers": "127.0.0.1:9092", "security_protocol": "PLAINTEXT"}


def test_scram_credentials_go_to_every_client_with_the_password_read_from_its_file(
    tmp_path: Path,
) -> None:
    # As a Strimzi KafkaUser's Secret mounts it: the password alone, a newline after it.
    password_file = tmp_path / "password"
    password_file.write_text("s3cret-from-the-operator\n", encoding="utf-8")
    settings = NotifySettings(
        kafka_bootstrap_servers="mla-kafka-kafka-bootstrap.kafka.svc:9093",
        kafka_security_protocol=SecurityProtocol.SASL_SSL,
        kafka_sasl_username="mla-notify",
        kafka_sasl_password_file=password_file,
    )
    options = settings.broker.client_options()
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "mla-notify"
    assert options["sasl_plain_password"] == "s3cret-from-the-operator"
    assert isinstance(options["ssl_context"], ssl.SSLContext), "SASL_SSL is encrypted"
    assert "s3cret" not in repr(settings.broker), "the password is never shown"


def test_a_client_certificate_and_the_cluster_ca_make_one_tls_context_for_every_client(
    tmp_path: Path,
) -> None:
    authority = Authority(tmp_path, "cluster")
    user = authority.client("mla-intake")
    settings = IntakeSettings(
        kafka_security_protocol=SecurityProtocol.SSL,
        kafka_ssl_cafile=authority.cafile,
        kafka_ssl_certfile=user.certfile,
        kafka_ssl_keyfile=user.keyfile,
    )
    context = settings.broker.client_options()["ssl_context"]
    assert context is settings.broker.client_options()["ssl_context"], "made once"
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"kafka_security_protocol": "SASL_SSL"}, "INTAKE_KAFKA_SASL_USERNAME"),
        (
            {"kafka_security_protocol": "SASL_SSL", "kafka_sasl_username": "mla-intake"},
            "INTAKE_KAFKA_SASL_PASSWORD",
        ),
        ({"kafka_ssl_cafile": "/etc/kafka/ca.crt"}, "INTAKE_KAFKA_SECURITY_PROTOCOL"),
        (
            {"kafka_security_protocol": "SSL", "kafka_ssl_certfile": "/etc/kafka/user.crt"},
            "INTAKE_KAFKA_SSL_KEYFILE",
        ),
        ({"kafka_security_protocol": "TLS"}, "kafka_security_protocol"),
        ({"kafka_sasl_mechanism": "GSSAPI"}, "kafka_sasl_mechanism"),
    ],
)
def test_a_way_to_the_broker_that_cannot_work_is_refused_naming_the_setting(
    settings: dict[str, str], named: str
) -> None:
    assert named in refusal(**settings)


def test_a_refusal_never_echoes_the_password_it_was_given() -> None:
    message = refusal(kafka_security_protocol="SASL_SSL", kafka_sasl_password="hunter2-secret")
    assert "INTAKE_KAFKA_SASL_USERNAME" in message
    assert "hunter2" not in message


def test_a_certificate_that_cannot_be_read_stops_the_service_naming_the_file(
    tmp_path: Path,
) -> None:
    missing = BrokerConnection(
        "broker:9093", SecurityProtocol.SSL, cafile=tmp_path / "no-such-ca.crt"
    )
    with pytest.raises(TlsFilesError, match=r"no-such-ca\.crt"):
        missing.client_options()
    authority = Authority(tmp_path, "cluster")
    user = authority.client("mla-routing")
    mismatched = BrokerConnection(
        "broker:9093",
        SecurityProtocol.SSL,
        cafile=authority.cafile,
        client_certificate=ClientCertificate(user.certfile, authority.client("other").keyfile),
    )
    with pytest.raises(TlsFilesError, match=r"mla-routing\.crt"):
        mismatched.client_options()


def test_sasl_credentials_without_sasl_or_tls_files_in_the_clear_are_refused() -> None:
    with pytest.raises(BrokerConnectionError, match="SASL_SSL"):
        BrokerConnection(
            "broker:9092",
            SecurityProtocol.PLAINTEXT,
            sasl=SaslCredentials(SaslMechanism.PLAIN, "user", "password"),
        )
    with pytest.raises(BrokerConnectionError, match="not encrypted"):
        BrokerConnection("broker:9092", cafile=Path("/etc/kafka/ca.crt"))


async def test_the_certificate_in_use_is_reported_with_when_it_expires(tmp_path: Path) -> None:
    authority = Authority(tmp_path, "cluster")
    user = authority.client("mla-notify")
    tls = BrokerTls(authority.cafile, ClientCertificate(user.certfile, user.keyfile))
    issued = x509.load_pem_x509_certificate(user.certfile.read_bytes())
    assert tls.expires_at == issued.not_valid_after_utc

    watch = certificate_watch(tls, every=0.01)
    task = asyncio.create_task(watch.run())
    await asyncio.sleep(0.05)
    watch.stop()
    await task
    gauge = REGISTRY.get_sample_value("mla_kafka_certificate_expiry_timestamp_seconds")
    assert gauge == issued.not_valid_after_utc.timestamp()
