"""tracking's settings: the shared ones, read with the `TRACKING_` prefix."""

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TRACKING_", extra="ignore")

    port: int = 8003
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:55432/mla_tracking"
    consumer_group: str = "mla-tracking"
