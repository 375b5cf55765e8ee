"""Settings of the one-machine stack (`MLA_STACK_*`)."""

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from devstack.services import ROOT


class StackSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MLA_STACK_", extra="ignore")

    # Everything the stack keeps (database files, logs) lives here; git ignores it.
    dir: Path = ROOT / ".stack"
    # Turn these off to use the PostgreSQL and Kafka the services' own settings name.
    embedded_postgres: bool = True
    embedded_kafka: bool = True
    postgres_port: int = 55432
    kafka_port: int = 9092
    partitions: int = 12  # the services' TOPIC_PARTITIONS default
