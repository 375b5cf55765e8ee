"""routing's settings: the shared ones, read with the `ROUTING_` prefix."""

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ROUTING_", extra="ignore")

    port: int = 8002
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:55432/mla_routing"
    consumer_group: str = "mla-routing"
