"""The key vault's contract, run against the in-memory fake and the PostgreSQL vault alike."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from shared.personal_data import InMemoryKeyVault, KeyState, KeyVault, MasterKey, MasterKeyError
from shared.personal_data.postgres_vault import MIGRATIONS, PostgresKeyVault, data_keys
from shared.personal_data.vault import KeyErasedError
from tests.support.infra import fresh_database

pytestmark = pytest.mark.integration
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class KeyVaultContract:
    """What every vault does; a subclass provides `vault`."""

    async def test_a_key_is_made_once_and_read_back(self, vault: KeyVault) -> None:
        key = await vault.create("request-1")

        assert await vault.get("request-1") == key
        assert await vault.create("request-1") == key, "asking again gives the same key"
        assert await vault.state("request-1") is KeyState.ACTIVE
        assert await vault.get("never-made") is None

    async def test_a_destroyed_key_is_gone_and_leaves_a_tombstone(self, vault: KeyVault) -> None:
        await vault.create("request-1")
        await vault.create("request-2")

        assert await vault.destroy("request-1", NOW) is True

        assert await vault.get("request-1") is None
        assert await vault.state("request-1") is KeyState.ERASED
        assert await vault.destroy("request-1", NOW) is False
        with pytest.raises(KeyErasedError):
            await vault.create("request-1")
        assert await vault.get("request-2") is not None, "other requests keep their keys"

    async def test_keys_made_ahead_are_stored_at_once_and_the_unissued_can_be_removed(
        self, vault: KeyVault
    ) -> None:
        await vault.create("request-1")
        await vault.destroy("request-1", NOW)

        made = await vault.create_many(["ahead-1", "ahead-2", "request-1"])

        assert [key.key_id for key in made] == ["ahead-1", "ahead-2"], "a used id gets none"
        assert await vault.get("ahead-2") == made[1]
        await vault.discard_unissued(["ahead-2", "request-1"])
        assert await vault.state("ahead-2") is KeyState.UNKNOWN
        assert await vault.get("ahead-1") == made[0]
        assert await vault.state("request-1") is KeyState.ERASED, "a tombstone stays"

    async def test_a_request_without_a_key_can_be_marked_erased(self, vault: KeyVault) -> None:
        assert await vault.destroy("received-before-sealing", NOW) is False
        assert await vault.state("received-before-sealing") is KeyState.ERASED


class TestInMemoryKeyVault(KeyVaultContract):
    @pytest.fixture
    def vault(self) -> KeyVault:
        return InMemoryKeyVault()


class TestPostgresKeyVault(KeyVaultContract):
    @pytest.fixture
    async def database_url(self) -> str:
        return await fresh_database("vault", migrations=MIGRATIONS)

    @pytest.fixture
    async def vault(self, database_url: str) -> AsyncIterator[PostgresKeyVault]:
        vault = PostgresKeyVault.open(database_url, MasterKey.generate())
        yield vault
        await vault.close()

    async def test_only_the_wrapped_key_is_stored_and_destroying_it_drops_it(
        self, vault: PostgresKeyVault, database_url: str
    ) -> None:
        key = await vault.create("request-1")
        rows = await self._rows(vault)
        assert key.material not in rows[0].wrapped

        await vault.destroy("request-1", NOW)

        (row,) = await self._rows(vault)
        assert (row.wrapped, row.kek_id, row.erased_at) == (None, None, NOW)

    async def test_another_master_key_cannot_read_the_keys(
        self, vault: PostgresKeyVault, database_url: str
    ) -> None:
        await vault.create("request-1")
        stranger = PostgresKeyVault.open(database_url, MasterKey.generate())
        try:
            with pytest.raises(MasterKeyError, match="not wrapped by this master key"):
                await stranger.get("request-1")
        finally:
            await stranger.close()

    @staticmethod
    async def _rows(vault: PostgresKeyVault) -> list[sa.Row]:
        async with vault._engine.connect() as connection:
            return list(await connection.execute(sa.select(data_keys)))
