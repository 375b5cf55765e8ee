"""Settings every service reads, from the environment, one prefix per service.

`INTAKE_DATABASE_URL`, `ROUTING_KAFKA_BOOTSTRAP_SERVERS`, ... : a service subclasses
`ServiceSettings` and sets its own `env_prefix`, so that four services can run from one shell
(or one compose file) without stepping on each other's variables.
"""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

LIFECYCLE_TOPIC = "mla.request-lifecycle"


class ServiceSettings(BaseSettings):
    """What every service needs to run: where to listen, its database, the broker."""

    model_config = SettingsConfigDict(env_prefix="MLA_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str = Field(
        default="postgresql+asyncpg://postgres@127.0.0.1:55432/mla",
        description="SQLAlchemy URL of the service's own database (asyncpg driver).",
    )
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    topic: str = LIFECYCLE_TOPIC
    topic_partitions: int = Field(default=6, ge=1)
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
    # A message whose handler keeps raising a non-infrastructure error goes to the DLQ after this.
    handler_max_attempts: int = Field(default=5, ge=1)

    @property
    def dlq_topic(self) -> str:
        return f"{self.topic}.dlq"
