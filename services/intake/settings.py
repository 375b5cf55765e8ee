"""intake's settings: the shared ones, read with the `INTAKE_` prefix."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.personal_data.settings import PersonalDataSettings


class Settings(PersonalDataSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    port: int = 8001
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:55432/mla_intake"
    consumer_group: str = "mla-intake"
    # intake's consumer learns what routing and the offices did, which only a later command
    # (a withdrawal, a closure) reads: no request waits on it to be routed. On the embedded
    # broker, which holds every fetch that finds nothing for its whole wait, a longer wait
    # spares the broker and intake fetches that bring one event each (at 100 requests/s,
    # with notify's the same: 0.3 ms of intake's CPU and 0.3 of the broker's a request,
    # received -> routed p99 110-113 ms -> 82-96; docs/benchmarks/system.md, change 36).
    consumer_fetch_max_wait_ms: int = Field(default=100, ge=1, le=10_000)
    # Prefix of the domestic reference numbers the department assigns (MPP-2026-000001).
    reference_prefix: str = "MPP"
