"""notify's settings: the shared ones, read with the `NOTIFY_` prefix."""

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFY_", extra="ignore")

    port: int = 8004
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:55432/mla_notify"
    consumer_group: str = "mla-notify"
