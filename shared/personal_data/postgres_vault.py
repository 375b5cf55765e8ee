"""The key vault in PostgreSQL: its own database (`mla_vault`), one row per request.

A row holds the data key wrapped under the master key, and the id of that master key. To
destroy a key the row keeps its id and the time, and loses the wrapped key. PostgreSQL keeps
the old row version until VACUUM reclaims it, and backups keep what they copied: both hold
the key wrapped only, useless without the master key, which is why the master key never
goes into a database or its backups.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import autocommit_driver, create_engine, quoted
from shared.personal_data.master_key import MasterKey
from shared.personal_data.sealing import DataKey
from shared.personal_data.vault import KeyErasedError, KeyState

# Its Alembic migrations (`devstack migrate` applies them with the services' own).
MIGRATIONS = Path(__file__).resolve().parent / "migrations"

metadata = sa.MetaData()

data_keys = sa.Table(
    "data_keys",
    metadata,
    sa.Column("key_id", sa.String(64), primary_key=True),
    # The data key wrapped under the master key `kek_id`; both null once destroyed.
    sa.Column("wrapped", sa.LargeBinary, nullable=True),
    sa.Column("kek_id", sa.String(32), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
)


# Built once, its values given as parameters.
_CREATE = insert(data_keys).on_conflict_do_nothing().returning(data_keys.c.key_id)
# Keys made ahead (`KeyReservoir`), many rows in one statement.
_CREATE_MANY = (
    f"INSERT INTO {quoted(data_keys)} (key_id, wrapped, kek_id) "
    "SELECT k, w, $3 FROM unnest($1::varchar[], $2::bytea[]) AS made(k, w) "
    "ON CONFLICT DO NOTHING RETURNING key_id"
)
# Only rows that still hold their key: a tombstone is never removed.
_DISCARD = (
    f"DELETE FROM {quoted(data_keys)} "
    "WHERE key_id = ANY($1::varchar[]) AND wrapped IS NOT NULL AND erased_at IS NULL"
)


class PostgresKeyVault:
    """The vault over its own engine (made by `open`, disposed by `close`)."""

    def __init__(self, engine: AsyncEngine, master: MasterKey) -> None:
        self._engine = engine
        # The same pool, for the calls that are one statement each: without BEGIN and
        # COMMIT around it, one round trip instead of three (a request's key is made on the
        # way in of every submission).
        self._single = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._master = master

    @classmethod
    def open(
        cls, database_url: str, master: MasterKey, *, application_name: str | None = None
    ) -> PostgresKeyVault:
        # Every submission makes a key and every response opens one: a pool of two made and
        # closed overflow connections all the time under concurrent calls.
        engine = create_engine(database_url, pool_size=5, application_name=application_name)
        return cls(engine, master)

    async def close(self) -> None:
        await self._engine.dispose()

    async def create(self, key_id: str) -> DataKey:
        key = DataKey.generate(key_id)
        async with self._single.connect() as connection:
            created = await connection.scalar(
                _CREATE,
                {
                    "key_id": key_id,
                    "wrapped": self._master.wrap(key),
                    "kek_id": self._master.kek_id,
                },
            )
        if created is not None:
            return key
        existing = await self.get(key_id)
        if existing is None:
            raise KeyErasedError(key_id)
        return existing

    async def create_many(self, key_ids: Sequence[str]) -> list[DataKey]:
        keys = [DataKey.generate(key_id) for key_id in key_ids]
        async with autocommit_driver(self._engine) as connection:
            created = await connection.fetch(
                _CREATE_MANY,
                [key.key_id for key in keys],
                [self._master.wrap(key) for key in keys],
                self._master.kek_id,
            )
        stored = {row["key_id"] for row in created}
        return [key for key in keys if key.key_id in stored]

    async def discard_unissued(self, key_ids: Sequence[str]) -> None:
        async with autocommit_driver(self._engine) as connection:
            await connection.execute(_DISCARD, list(key_ids))

    async def get(self, key_id: str) -> DataKey | None:
        async with self._single.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(data_keys.c.wrapped).where(
                        data_keys.c.key_id == key_id, data_keys.c.wrapped.is_not(None)
                    )
                )
            ).first()
        return self._master.unwrap(key_id, row.wrapped) if row is not None else None

    async def state(self, key_id: str) -> KeyState:
        async with self._single.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(data_keys.c.wrapped).where(data_keys.c.key_id == key_id)
                )
            ).first()
        if row is None:
            return KeyState.UNKNOWN
        return KeyState.ACTIVE if row.wrapped is not None else KeyState.ERASED

    async def destroy(self, key_id: str, at: datetime) -> bool:
        async with self._engine.begin() as connection:
            destroyed = await connection.scalar(
                sa.update(data_keys)
                .where(data_keys.c.key_id == key_id, data_keys.c.wrapped.is_not(None))
                .values(wrapped=None, kek_id=None, erased_at=at)
                .returning(data_keys.c.key_id)
            )
            # A request that never had a key (received before sealing) still gets its
            # tombstone, so that the vault answers "erased" for it from now on.
            await connection.execute(
                insert(data_keys).values(key_id=key_id, erased_at=at).on_conflict_do_nothing()
            )
        return destroyed is not None
