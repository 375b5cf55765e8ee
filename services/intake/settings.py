"""intake's settings: the shared ones, read with the `INTAKE_` prefix."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.personal_data.settings import PersonalDataSettings
from shared.settings import FETCH_WAIT_OFF_THE_PATH_MS, fetch_wait_ms


class Settings(PersonalDataSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    port: int = 8001
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:55432/mla_intake"
    consumer_group: str = "mla-intake"
    # Its consumer learns what routing and the offices did, which only a later command
    # (a withdrawal, a closure) reads.
    consumer_fetch_max_wait_ms: int = fetch_wait_ms(FETCH_WAIT_OFF_THE_PATH_MS)
    # It does not gather (`consumer_gather_ms`): a closure waits for it to have heard of the
    # last execution report, and gathering saved it little (docs/benchmarks/system.md, 49).
    # A closure refused for want of a report waits up to this long for the consumer to have
    # handled what the topic held when it came, then is decided again (0: refused at once).
    closure_catch_up_seconds: float = Field(default=2.0, ge=0, le=30)
    # Prefix of the domestic reference numbers the department assigns (MPP-2026-000001).
    reference_prefix: str = "MPP"
    # Submissions that arrive while others are being stored are numbered and stored
    # together, in the same two statements (services/intake/adapters/reception.py): at
    # most this many at once.
    submission_batch_max: int = Field(default=64, ge=1)
    # How many such batches may be written at once (each on a connection of the pool).
    submission_writers: int = Field(default=1, ge=1)
