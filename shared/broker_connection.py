"""How a service reaches the broker: its address, and how it proves who it is over what channel.

On one machine the embedded broker is reached in the clear. A production Kafka is reached
over TLS (the broker's certificate checked against the cluster's CA) and the service proves
its identity either with a client certificate (mutual TLS: Strimzi's `tls` users) or with
SASL (SCRAM-SHA-512: Strimzi's `scram-sha-512` users; PLAIN for brokers that offer nothing
else). Every client the services open (producers, consumers, the admin that provisions the
topic, the readiness check) is built from one `BrokerConnection`, so that none of them can
reach the broker by another way than the one configured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any

from shared.broker_tls import BrokerTls, ClientCertificate


class SecurityProtocol(StrEnum):
    """Kafka's names for the four ways a client talks to a broker."""

    PLAINTEXT = "PLAINTEXT"
    SSL = "SSL"
    SASL_PLAINTEXT = "SASL_PLAINTEXT"
    SASL_SSL = "SASL_SSL"

    @property
    def encrypted(self) -> bool:
        return self in {SecurityProtocol.SSL, SecurityProtocol.SASL_SSL}

    @property
    def authenticated_by_sasl(self) -> bool:
        return self in {SecurityProtocol.SASL_PLAINTEXT, SecurityProtocol.SASL_SSL}


class SaslMechanism(StrEnum):
    SCRAM_SHA_512 = "SCRAM-SHA-512"
    SCRAM_SHA_256 = "SCRAM-SHA-256"
    PLAIN = "PLAIN"


class BrokerConnectionError(ValueError):
    """The settings describe no way of reaching the broker that can work; says which."""


@dataclass(frozen=True)
class SaslCredentials:
    mechanism: SaslMechanism
    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class BrokerConnection:
    """Where the broker is and how to reach it; `client_options()` gives aiokafka's arguments."""

    bootstrap_servers: str
    protocol: SecurityProtocol = SecurityProtocol.PLAINTEXT
    # The CA the broker's certificate is checked against; None: the system's trusted CAs.
    cafile: Path | None = None
    client_certificate: ClientCertificate | None = None
    sasl: SaslCredentials | None = None

    def __post_init__(self) -> None:
        if self.protocol.authenticated_by_sasl and self.sasl is None:
            raise BrokerConnectionError(
                f"security protocol {self.protocol} needs SASL credentials: a mechanism, "
                "a username and a password"
            )
        if not self.protocol.authenticated_by_sasl and self.sasl is not None:
            raise BrokerConnectionError(
                f"SASL credentials are given but security protocol {self.protocol} does not "
                "use them (SASL_SSL, or SASL_PLAINTEXT, does)"
            )
        if not self.protocol.encrypted and (self.cafile or self.client_certificate):
            raise BrokerConnectionError(
                f"a CA file or a client certificate is given but security protocol "
                f"{self.protocol} is not encrypted (SSL, or SASL_SSL, is)"
            )

    @classmethod
    def of(cls, target: BrokerConnection | str) -> BrokerConnection:
        """A connection as given, or a plain one to a `host:port` list (one machine, tests)."""
        return target if isinstance(target, BrokerConnection) else cls(target)

    @cached_property
    def tls(self) -> BrokerTls | None:
        """The TLS of every client of this connection (shared/broker_tls.py), made once: it
        reads the files, and raises `TlsFilesError` naming one that does not do."""
        if not self.protocol.encrypted:
            return None
        return BrokerTls(self.cafile, self.client_certificate)

    def client_options(self) -> dict[str, Any]:
        """The keyword arguments every aiokafka client takes to reach the broker this way."""
        options: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": str(self.protocol),
        }
        if self.tls is not None:
            options["ssl_context"] = self.tls.context
        if self.sasl is not None:
            options["sasl_mechanism"] = str(self.sasl.mechanism)
            options["sasl_plain_username"] = self.sasl.username
            options["sasl_plain_password"] = self.sasl.password
        return options
