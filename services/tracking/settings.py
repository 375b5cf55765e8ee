"""tracking's settings: the shared ones, read with the `TRACKING_` prefix."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.personal_data.settings import PersonalDataSettings


class Settings(PersonalDataSettings):
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
    # Processes that fold a large archive in a replay that reports (one share of the
    # requests each), and that verify it (one range of positions each). Two beat one even on
    # two cores shared with PostgreSQL (docs/benchmarks/tracking.md); raise them where
    # tracking has cores to spare.
    replay_workers: int = Field(default=2, ge=1, le=64)
    verify_workers: int = Field(default=2, ge=1, le=64)
    # The live event stream (GET /v1/events/stream, services/tracking/event_stream.py): how
    # many may watch this instance at once, how often each looks at the archive, how long a
    # silence lasts before a heartbeat, and how long one connection lasts before the client
    # reconnects (and so shows its token again).
    stream_max_subscribers: int = Field(default=50, ge=1, le=10_000)
    stream_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    stream_heartbeat_seconds: float = Field(default=15.0, gt=0, le=300)
    stream_max_seconds: float = Field(default=600.0, gt=0)
