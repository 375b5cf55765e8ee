"""tracking's settings: the shared ones, read with the `TRACKING_` prefix."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TRACKING_", extra="ignore")

    port: int = 8003
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:55432/mla_tracking"
    consumer_group: str = "mla-tracking"
    # The Ed25519 key that signs archive checkpoints (made on first start when missing).
    signing_key_path: Path = Path(".stack/keys/tracking-ed25519.pem")
    # How often the archive head is signed (only when it moved).
    checkpoint_interval_seconds: float = Field(default=300, gt=0)
    # How often the deadline monitor looks for deadlines due soon or passed.
    deadline_scan_seconds: float = Field(default=60, gt=0)
    # How old GET /v1/stats may be once computing it takes seconds (a large read model).
    stats_max_age_seconds: float = Field(default=60, gt=0)
