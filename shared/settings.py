"""Settings every service reads, from the environment, one prefix per service.

`INTAKE_DATABASE_URL`, `ROUTING_KAFKA_BOOTSTRAP_SERVERS`, ... : a service subclasses
`ServiceSettings` and sets its own `env_prefix`, so that four services can run from one shell
(or one compose file) without stepping on each other's variables.
"""

from functools import cached_property
from pathlib import Path
from typing import Any, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.broker_connection import (
    BrokerConnection,
    BrokerConnectionError,
    SaslCredentials,
    SaslMechanism,
    SecurityProtocol,
)
from shared.broker_tls import ClientCertificate
from shared.database_url import asyncpg_url

LIFECYCLE_TOPIC = "mla.request-lifecycle"


def fetch_wait_ms(default: int) -> Any:
    """The setting of how long the broker may hold a consumer's fetch, with its default."""
    return Field(default=default, ge=1, le=10_000)


# The fetch wait of a consumer no request waits on to be routed (intake's, notify's): on the
# embedded broker, which holds every fetch that finds nothing for its whole wait, a longer
# one spares the broker and the service fetches that bring an event or two each (at 100
# requests/s: notify 1.8 -> 1.2 ms of CPU a request, intake and the broker 0.3 ms less each,
# received -> routed p99 110-113 -> 82-96 ms; docs/benchmarks/system.md, change 36).
FETCH_WAIT_OFF_THE_PATH_MS = 100
# How long notify's consumer stops fetching after it has taken what there was: it then takes
# a quarter of a second's events at once, in one transaction, from one fetch (at 100
# requests/s on the eighth machine: notify 1.35-1.41 -> 0.42 ms of CPU a request, the broker
# 2.9 -> 2.5-2.65; docs/benchmarks/system.md, change 49). Its deliveries are looked for every
# 0.5 s anyway.
GATHER_OFF_THE_PATH_MS = 250


class ServiceSettings(BaseSettings):
    """What every service needs to run: where to listen, its database, the broker."""

    # A refusal names the setting, never echoes the values given (passwords, URLs with them).
    model_config = SettingsConfigDict(env_prefix="MLA_", extra="ignore", hide_input_in_errors=True)

    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str = Field(
        default="postgresql+asyncpg://postgres@127.0.0.1:55432/mla",
        description=(
            "SQLAlchemy URL of the service's own database (asyncpg driver; postgresql:// "
            "and postgres:// are taken as it)."
        ),
    )
    # Connections one instance keeps to its database, and never more: a caller beyond them
    # waits for one (shared.db.create_engine). Every instance of every service, times this,
    # must fit the server's `max_connections` (deploy/README.md, "How it scales").
    database_pool_size: int = Field(default=20, ge=1, le=500)
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # How the broker is reached (shared/broker_connection.py): in the clear on one machine;
    # SSL (mutual TLS with a client certificate) or SASL_SSL with a production Kafka.
    kafka_security_protocol: SecurityProtocol = SecurityProtocol.PLAINTEXT
    # The CA the broker's certificate is checked against (PEM); unset: the system's CAs.
    kafka_ssl_cafile: Path | None = None
    # The service's certificate and private key (PEM), for a broker that authenticates its
    # clients by mutual TLS (a Strimzi KafkaUser of type `tls`: user.crt, user.key).
    kafka_ssl_certfile: Path | None = None
    kafka_ssl_keyfile: Path | None = None
    # SASL, with SASL_SSL (or SASL_PLAINTEXT): the mechanism, the user, and its password
    # inline or in a file (a Strimzi KafkaUser of type `scram-sha-512`: its `password`).
    kafka_sasl_mechanism: SaslMechanism = SaslMechanism.SCRAM_SHA_512
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_sasl_password_file: Path | None = None
    topic: str = LIFECYCLE_TOPIC
    # Twelve, as deploy/ sets: up to twelve instances of a service share the work. On the
    # embedded broker it also halves what a fetch costs against six: it lists every batch
    # its partition ever held whenever one has news (docs/benchmarks/system.md, change 33).
    topic_partitions: int = Field(default=12, ge=1)
    consumer_group: str = ""
    log_level: str = "INFO"
    # How long the relay sleeps when the outbox is empty; a commit wakes it earlier.
    outbox_poll_seconds: float = Field(default=0.5, gt=0)
    # Create the topic when the broker lacks it (one machine; a broker that lost its log).
    # Turn off where the topic is managed (Strimzi), so it is never made with one replica.
    provision_topics: bool = True
    # How long the broker may take to acknowledge a batch before it is sent again.
    publish_timeout_seconds: float = Field(default=15.0, gt=0)
    # Bounds for the retry of a failing broker or database call (exponential, with jitter).
    retry_initial_seconds: float = Field(default=0.2, gt=0)
    retry_max_seconds: float = Field(default=10.0, gt=0)
    # Consumer-group timing. A broker completes a join after the rebalance timeout at most;
    # a member that stops without leaving is noticed after the session timeout.
    consumer_session_timeout_ms: int = Field(default=10_000, ge=1_000)
    consumer_rebalance_timeout_ms: int = Field(default=3_000, ge=100)
    consumer_heartbeat_ms: int = Field(default=1_000, ge=100)
    # How stale the consumer's view of the topic may grow: a topic that gained partitions
    # (re-created by a broker that lost it, or grown by an operator) is read in full within
    # this time.
    consumer_metadata_max_age_ms: int = Field(default=10_000, ge=1_000)
    # How long the broker may hold a fetch that finds nothing new. Kafka answers as soon as
    # a message arrives; the embedded broker (Tansu) only when this time is up, so on one
    # machine each hop of an event waits up to it (docs/benchmarks/system.md). 25 ms: at 25
    # requests/s as fast as 10 ms and a third cheaper for the broker; an idle consumer asks
    # 40 times a second. intake and notify, whose consumers no request waits on to be
    # routed, wait `FETCH_WAIT_OFF_THE_PATH_MS`. With Kafka, where it costs latency nothing,
    # deploy/ sets 500.
    consumer_fetch_max_wait_ms: int = fetch_wait_ms(25)
    # After a turn of the loop that took less than a full batch, the consumer stops fetching
    # for this long (its partitions paused), so that the next turn takes what arrived
    # meanwhile at once. 0 for a consumer a request or a command waits on;
    # `GATHER_OFF_THE_PATH_MS` for notify's. A consumer behind, taking full batches, never
    # stops.
    consumer_gather_ms: int = Field(default=0, ge=0)
    # How much one fetch may bring, and one partition's share of it. A consumer keeps what
    # a fetch brought of a partition until it has worked through it, and fetches the others
    # meanwhile, so a consumer behind holds up to this much of each of its partitions. An
    # event larger than this still comes, alone, at the head of a fetch (Kafka and the
    # embedded broker both do so; the largest is shared.kafka.MAX_EVENT_BYTES). Working off
    # a backlog, tracking and routing peaked at 135-141 MiB with 1 MiB and at 115-125 with
    # 256 KiB, as fast (docs/benchmarks/system.md, changes 37 and 65). The limit is on the
    # whole fetch: a consumer more than this behind gets its partitions over several
    # fetches, which may lengthen the tail on a full machine (change 65). At least 64 KiB:
    # less would bring a few events a fetch and only multiply the round trips.
    consumer_fetch_max_bytes: int = Field(default=262_144, ge=65_536)
    # How many messages the consumer handles in one transaction, when they arrived together
    # (from any of its partitions; 1: each in its own). A failure in one takes the batch one
    # by one.
    consumer_batch_size: int = Field(default=100, ge=1, le=1000)
    # How often a consumer commits its offsets to the broker (also before a rebalance and at
    # stop). Committing after every fetch cost a request to the broker's coordinator for
    # each (80 a second for the four services at 25 requests/s); what a crash leaves
    # uncommitted is delivered again and skipped by `processed_events`.
    consumer_commit_interval_ms: int = Field(default=1000, ge=0, le=60_000)
    # A message whose handler keeps raising a non-infrastructure error goes to the DLQ after this.
    handler_max_attempts: int = Field(default=5, ge=1)
    # Bearer tokens (shared/auth): in production the identity provider's key set; otherwise
    # the HS256 key the services share, inline or in a file (`make run` writes that file on
    # its first start). Tokens must name this issuer and audience.
    auth_jwks_url: str | None = None
    auth_shared_key: SecretStr | None = None
    auth_shared_key_file: Path | None = Path(".stack/keys/auth-shared.key")
    auth_issuer: str = "mla-tracker"
    auth_audience: str = "mla-tracker"
    # The largest request body the HTTP API reads (larger: 413, unread). Every body of the
    # API is a JSON document of a few kilobytes; a megabyte leaves room for the largest.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Requests per second one client may sustain, and the burst it may spend at once (429
    # with Retry-After beyond it, shared/rate_limit.py). A client is the principal a verified
    # token names (one allowance across the service's instances, shared/rate_allowance.py),
    # or the peer address of a call without a token (per instance). 0 turns it off.
    rate_limit_per_second: float = Field(default=100.0, ge=0)
    rate_limit_burst: int = Field(default=1000, ge=1)
    # What one peer address may send with credentials, whichever principals they name: a
    # coarse guard against a flood of forged tokens. Far above one principal's allowance,
    # because many principals may share an address (a gateway, a NAT; behind an ingress
    # every call comes from the ingress). 0 turns it off.
    rate_limit_per_address_per_second: float = Field(default=1000.0, ge=0)
    rate_limit_per_address_burst: int = Field(default=10_000, ge=1)
    # Requests one instance works on at once; the next ones are answered 503 with
    # Retry-After at once (shared/load_shedding.py). 0 turns it off.
    max_requests_in_flight: int = Field(default=256, ge=0)
    # Browser origins allowed to call the API (comma-separated, e.g.
    # `https://dashboard.example`); empty: no cross-origin browser access at all.
    cors_allowed_origins: str = ""

    @property
    def cors_origins(self) -> list[str]:
        return [origin.strip() for origin in self.cors_allowed_origins.split(",") if origin.strip()]

    @field_validator("database_url")
    @classmethod
    def _through_asyncpg(cls, url: str) -> str:
        return asyncpg_url(url)

    @model_validator(mode="after")
    def _broker_reachable_as_configured(self) -> Self:
        """Refuses, naming the settings, a way of reaching the broker that cannot work."""
        prefix = self.model_config.get("env_prefix", "")
        if (self.kafka_ssl_certfile is None) != (self.kafka_ssl_keyfile is None):
            raise ValueError(
                f"{prefix}KAFKA_SSL_CERTFILE and {prefix}KAFKA_SSL_KEYFILE go together: "
                "a client certificate needs its private key"
            )
        sasl = self.kafka_security_protocol.authenticated_by_sasl
        if sasl and not self.kafka_sasl_username:
            raise ValueError(
                f"{prefix}KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs "
                f"{prefix}KAFKA_SASL_USERNAME"
            )
        if sasl and (self.kafka_sasl_password is None) == (self.kafka_sasl_password_file is None):
            raise ValueError(
                f"{prefix}KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs one of "
                f"{prefix}KAFKA_SASL_PASSWORD and {prefix}KAFKA_SASL_PASSWORD_FILE"
            )
        try:
            self.broker  # noqa: B018  the connection's own rules (TLS files need TLS)
        except BrokerConnectionError as exc:
            raise ValueError(
                f"{prefix}KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol}: {exc}"
            ) from exc
        except OSError as exc:
            raise ValueError(f"{prefix}KAFKA_SASL_PASSWORD_FILE: {exc}") from exc
        return self

    @cached_property
    def broker(self) -> BrokerConnection:
        """How every client of the service reaches the broker (made, and the password file
        read, when the settings are)."""
        sasl = None
        if self.kafka_security_protocol.authenticated_by_sasl:
            assert self.kafka_sasl_username is not None  # checked above
            if self.kafka_sasl_password is not None:
                password = self.kafka_sasl_password.get_secret_value()
            else:
                assert self.kafka_sasl_password_file is not None
                password = self.kafka_sasl_password_file.read_text(encoding="utf-8").strip()
            sasl = SaslCredentials(self.kafka_sasl_mechanism, self.kafka_sasl_username, password)
        certificate = None
        if self.kafka_ssl_certfile is not None and self.kafka_ssl_keyfile is not None:
            certificate = ClientCertificate(self.kafka_ssl_certfile, self.kafka_ssl_keyfile)
        return BrokerConnection(
            self.kafka_bootstrap_servers,
            self.kafka_security_protocol,
            cafile=self.kafka_ssl_cafile,
            client_certificate=certificate,
            sasl=sasl,
        )

    @property
    def database_application_name(self) -> str:
        """How the service's connections name themselves to PostgreSQL: `mla-<service>`, from
        its settings' prefix (`INTAKE_` -> `mla-intake`)."""
        service = self.model_config.get("env_prefix", "").rstrip("_").lower()
        return f"mla-{service}" if service and service != "mla" else "mla"

    def consumer_group_of(self, service: str) -> str:
        """The consumer group the service's instances share: `CONSUMER_GROUP`, or
        `mla-<service>`."""
        return self.consumer_group or f"mla-{service}"

    @property
    def dlq_topic(self) -> str:
        return f"{self.topic}.dlq"
