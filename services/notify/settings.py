"""notify's settings: the shared ones, and its deliveries', read with the `NOTIFY_` prefix."""

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import (
    FETCH_WAIT_OFF_THE_PATH_MS,
    GATHER_OFF_THE_PATH_MS,
    ServiceSettings,
    fetch_wait_ms,
)


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFY_", extra="ignore")

    port: int = 8004
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:55432/mla_notify"
    consumer_group: str = "mla-notify"
    # A notification may leave a quarter of a second after its event (its delivery is looked
    # for every `delivery_poll_seconds` anyway).
    consumer_fetch_max_wait_ms: int = fetch_wait_ms(FETCH_WAIT_OFF_THE_PATH_MS)
    consumer_gather_ms: int = GATHER_OFF_THE_PATH_MS

    # Webhook targets on private, loopback or link-local addresses are refused unless allowed
    # (a deployment whose receivers sit on its own network; the tests, on 127.0.0.1).
    allow_private_targets: bool = False
    # One attempt (connect, send, answer) may take this long; then it counts as failed.
    delivery_timeout_seconds: float = Field(default=5.0, gt=0)
    # After this many failed attempts a delivery is dead (until retried by hand).
    delivery_max_attempts: int = Field(default=8, ge=1)
    # The wait after the n-th failure: initial * 2**(n-1), at most the maximum, with jitter.
    delivery_initial_backoff_seconds: float = Field(default=60.0, gt=0)
    delivery_max_backoff_seconds: float = Field(default=3600.0, gt=0)
    # How often the worker looks for due deliveries; a new delivery wakes it sooner.
    delivery_poll_seconds: float = Field(default=0.5, gt=0)
    # Deliveries claimed at once, and sent at once, by one instance.
    delivery_batch_size: int = Field(default=20, ge=1)
    delivery_concurrency: int = Field(default=20, ge=1)

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_from: str = "mla-notify@localhost"
    smtp_starttls: bool = False
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    # Links in e-mails point here: the tracking service as its readers reach it.
    tracking_base_url: str = "http://127.0.0.1:8003"
