"""Data keys made ahead for the requests intake will receive (`KeyReservoir`)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence

import pytest

from shared.personal_data import DataKey, InMemoryKeyVault, KeyState
from shared.personal_data.key_reservoir import KeyReservoir


class CountingVault(InMemoryKeyVault):
    """The in-memory vault, counting its bulk writes; it can be told to fail them."""

    def __init__(self) -> None:
        super().__init__()
        self.bulk_writes: list[int] = []
        self.failing = False

    async def create_many(self, key_ids: Sequence[str]) -> list[DataKey]:
        await asyncio.sleep(0)  # a round trip: other takers run meanwhile
        if self.failing:
            raise ConnectionError("the vault's database is down")
        self.bulk_writes.append(len(key_ids))
        return await super().create_many(key_ids)


async def test_each_submission_gets_a_new_stored_key_and_the_vault_is_written_in_bulk() -> None:
    vault = CountingVault()
    reservoir = KeyReservoir(vault, size=8)

    keys = [await reservoir.take() for _ in range(20)]

    assert len({key.key_id for key in keys}) == 20, "never the same key (or request id) twice"
    for key in keys:
        assert await vault.get(key.key_id) == key, "stored before it is handed out"
    assert sum(vault.bulk_writes) >= 20
    assert len(vault.bulk_writes) <= 6, f"bulk writes, not one a key: {vault.bulk_writes}"


async def test_concurrent_submissions_on_an_empty_reservoir_share_one_fill() -> None:
    vault = CountingVault()
    reservoir = KeyReservoir(vault, size=16)

    keys = await asyncio.gather(*(reservoir.take() for _ in range(10)))

    assert len({key.key_id for key in keys}) == 10
    assert vault.bulk_writes[0] == 16, "the first fill serves every waiting taker"


async def test_a_key_that_sealed_nothing_is_handed_out_again() -> None:
    reservoir = KeyReservoir(CountingVault(), size=4)
    key = await reservoir.take()

    reservoir.give_back(key)  # an idempotent replay stored nothing under it

    assert await reservoir.take() == key


async def test_a_vault_outage_fails_the_taker_and_the_next_take_after_it_succeeds() -> None:
    vault = CountingVault()
    reservoir = KeyReservoir(vault, size=4)
    vault.failing = True

    with pytest.raises(ConnectionError):
        await reservoir.take()

    vault.failing = False
    assert await vault.get((await reservoir.take()).key_id) is not None


async def test_stopping_removes_the_keys_never_handed_out_and_keeps_the_issued() -> None:
    vault, made = CountingVault(), itertools.count(1)
    reservoir = KeyReservoir(vault, size=4, new_id=lambda: f"request-{next(made)}")
    issued = await reservoir.take()
    assert len(reservoir) > 0

    await reservoir.close()

    states = {f"request-{n}": await vault.state(f"request-{n}") for n in range(1, 10)}
    assert states.pop(issued.key_id) is KeyState.ACTIVE
    assert set(states.values()) == {KeyState.UNKNOWN}, "the keys never handed out are gone"
    with pytest.raises(RuntimeError, match="closed"):
        await reservoir.take()
