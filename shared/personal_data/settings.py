"""The settings of a service that seals or shows personal data (intake, tracking)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from sqlalchemy.engine import make_url

from shared.database_url import asyncpg_url
from shared.personal_data.master_key import MasterKey
from shared.personal_data.postgres_vault import PostgresKeyVault
from shared.personal_data.vault import CachedKeyVault
from shared.settings import ServiceSettings

VAULT_DATABASE = "mla_vault"


class PersonalDataSettings(ServiceSettings):
    """A service that seals or shows personal data: where the key vault is, and the master
    key its data keys are wrapped under."""

    # The one database of data keys, shared by the services that seal or reveal. Unset, it
    # is `mla_vault` on the server of the service's own database.
    vault_database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the key vault's database (asyncpg driver, as DATABASE_URL).",
    )
    # The master key file (`make run` makes it beside the stack's data; elsewhere a secret).
    personal_data_key_file: Path = Path(".stack/keys/personal-data.key")
    # How long a data key read from the vault is kept in memory by one process.
    key_cache_seconds: float = Field(default=30.0, ge=0)
    # How many data keys a process that receives requests makes ahead, in one statement.
    key_reservoir_size: int = Field(default=64, ge=1, le=10_000)

    @field_validator("vault_database_url")
    @classmethod
    def _vault_through_asyncpg(cls, url: str | None) -> str | None:
        return None if url is None else asyncpg_url(url)

    @property
    def vault_url(self) -> str:
        if self.vault_database_url:
            return self.vault_database_url
        url = make_url(self.database_url).set(database=VAULT_DATABASE)
        return url.render_as_string(hide_password=False)


def open_key_vault(settings: PersonalDataSettings) -> tuple[CachedKeyVault, PostgresKeyVault]:
    """The cached vault a service reads through, and the store under it (to close at stop)."""
    store = PostgresKeyVault.open(
        settings.vault_url,
        MasterKey.load(settings.personal_data_key_file),
        application_name=settings.database_application_name,
    )
    return CachedKeyVault(store, settings.key_cache_seconds), store
