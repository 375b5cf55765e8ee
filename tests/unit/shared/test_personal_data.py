"""Personal data sealed under a key per request: sealing, wrapping, the vault and its cache,
and the fields of a request that are sealed and revealed."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import orjson
import pytest

from shared.personal_data import (
    ERASED,
    CachedKeyVault,
    DataKey,
    InMemoryKeyVault,
    KeyState,
    MasterKey,
    MasterKeyError,
    PersonalDataReader,
    SealedValue,
    SealingError,
    is_sealed,
    reveal_details,
    seal,
    seal_details,
    unseal,
)
from shared.personal_data.vault import KeyErasedError
from shared.request.model import EXAMPLE_REQUEST, RequestDetails

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
T = TypeVar("T")
PERSONAL_TEXTS = ("Dragan Example", "Mira Sample", "1984-05-17", "Subotica company", "dispatcher")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """The fakes are async like the real vault; these tests need no event loop of their own."""
    return asyncio.run(coroutine)


def example_document() -> dict[str, Any]:
    return RequestDetails.model_validate(EXAMPLE_REQUEST).model_dump(mode="json")


# --- one value ------------------------------------------------------------------------------


def test_a_sealed_value_opens_with_its_key_and_field_only() -> None:
    key = DataKey.generate("request-1")
    sealed = seal({"name": "Dragan Example"}, key, "persons")

    assert unseal(sealed, key, "persons") == {"name": "Dragan Example"}
    with pytest.raises(SealingError):
        unseal(sealed, key, "summary_of_facts")  # moved to another field
    with pytest.raises(SealingError):
        unseal(sealed, DataKey.generate("request-1"), "persons")  # another key, same id
    with pytest.raises(SealingError):
        unseal(sealed, DataKey.generate("request-2"), "persons")


def test_a_changed_byte_of_a_sealed_value_is_detected() -> None:
    key = DataKey.generate("request-1")
    sealed = seal("the facts", key, "summary_of_facts")
    raw = bytearray(sealed.sealed.encode())
    raw[20] = ord("A") if raw[20] != ord("A") else ord("B")
    tampered = sealed.model_copy(update={"sealed": raw.decode()})

    with pytest.raises(SealingError):
        unseal(tampered, key, "summary_of_facts")


def test_a_sealed_value_is_self_describing_json_without_the_plaintext() -> None:
    sealed = seal("Dragan Example", DataKey.generate("request-1"), "persons")
    document = sealed.model_dump()

    assert document.keys() == {"alg", "key_id", "sealed"}
    assert document["alg"] == "A256GCM" and document["key_id"] == "request-1"
    assert b"Dragan" not in orjson.dumps(document)
    assert SealedValue.model_validate(document) == sealed  # stable through JSON


# --- the master key -------------------------------------------------------------------------


def test_a_data_key_unwraps_only_under_the_master_key_that_wrapped_it() -> None:
    master, other = MasterKey.generate(), MasterKey.generate()
    key = DataKey.generate("request-1")
    wrapped = master.wrap(key)

    assert key.material not in wrapped
    assert master.unwrap("request-1", wrapped) == key
    with pytest.raises(MasterKeyError):
        other.unwrap("request-1", wrapped)
    with pytest.raises(MasterKeyError):
        master.unwrap("request-2", wrapped)  # the id is bound to the wrapped key


def test_the_master_key_file_is_private_and_never_made_when_reading(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "personal-data.key"
    with pytest.raises(MasterKeyError, match="no personal-data master key"):
        MasterKey.load(path)

    master = MasterKey.generate()
    master.save(path)

    assert path.stat().st_mode & 0o077 == 0
    assert MasterKey.load(path) == master
    assert master.kek_id == MasterKey.load(path).kek_id
    assert "material" not in repr(master), "the key never shows in a repr (or a log line)"


# --- the vault and its cache ----------------------------------------------------------------


def test_a_destroyed_key_is_gone_for_good_and_leaves_a_tombstone() -> None:
    vault = InMemoryKeyVault()
    key = run(vault.create("request-1"))

    assert run(vault.get("request-1")) == key
    assert run(vault.destroy("request-1", NOW)) is True
    assert run(vault.get("request-1")) is None
    assert run(vault.state("request-1")) is KeyState.ERASED
    assert run(vault.destroy("request-1", NOW)) is False
    with pytest.raises(KeyErasedError):
        run(vault.create("request-1"))
    assert run(vault.state("never-made")) is KeyState.UNKNOWN


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_cache_forgets_a_key_destroyed_elsewhere_within_its_ttl_or_on_eviction() -> None:
    store, clock = InMemoryKeyVault(), Clock()
    cached = CachedKeyVault(store, ttl_seconds=30, clock=clock)
    run(cached.create("request-1"))
    run(cached.create("request-2"))
    run(store.destroy("request-1", NOW))  # another process destroyed them
    run(store.destroy("request-2", NOW))

    assert run(cached.get("request-1")) is not None  # still cached...
    cached.evict("request-1")  # ...until the erasure event comes by
    assert run(cached.get("request-1")) is None
    clock.now = 31  # or the key outlived its time in the cache
    assert run(cached.get("request-2")) is None


def test_the_cache_lets_go_of_the_keys_whose_time_is_over_as_new_ones_come() -> None:
    store, clock = InMemoryKeyVault(), Clock()
    cached = CachedKeyVault(store, ttl_seconds=30, clock=clock)
    for number in range(1000):  # read once each, never again
        run(cached.create(f"request-{number}"))
    clock.now = 20
    run(cached.create("request-at-20"))
    assert len(cached) == 1001

    clock.now = 31
    run(cached.create("request-at-31"))
    assert len(cached) == 2, "the thousand kept at 0 are gone; the one kept at 20 stays"
    assert run(cached.get("request-at-20")) is not None
    assert run(cached.get("request-7")) is not None, "still in the vault, read again"
    assert len(cached) == 3


def test_the_process_that_destroys_a_key_forgets_it_at_once() -> None:
    cached = CachedKeyVault(InMemoryKeyVault(), ttl_seconds=3600)
    run(cached.create("request-1"))

    run(cached.destroy("request-1", NOW))

    assert run(cached.get("request-1")) is None


# --- the fields of a request ----------------------------------------------------------------


def test_sealing_a_request_leaves_no_personal_text_and_keeps_what_routing_reads() -> None:
    document = seal_details(example_document(), DataKey.generate("request-1"))
    stored = orjson.dumps(document).decode()

    for text in (*PERSONAL_TEXTS, "international@ljubljana", "+386 1"):
        assert text not in stored
    details = RequestDetails.model_validate(document)  # still a valid event payload
    assert details.requesting_authority.name.startswith("District State Prosecutor")
    assert details.requesting_authority.reference == "Kt 1234/2026"
    assert [(m.type, m.place) for m in details.measures] == [
        ("search_and_seizure", "Subotica"),
        ("hearing_witness", "Novi Sad"),
    ]
    assert details.offences[0].max_penalty_years == 12
    assert all(is_sealed(document[f]) for f in ("persons", "summary_of_facts", "urgency_reasons"))


def test_a_sealed_request_reveals_as_submitted_while_its_key_exists() -> None:
    key = DataKey.generate("request-1")
    submitted = example_document()
    sealed = seal_details(submitted, key)

    assert submitted == example_document(), "the submitter is answered with it, in the clear"
    assert reveal_details(sealed, {"request-1": key}) == example_document()


def test_after_erasure_every_personal_field_reads_erased_and_the_rest_stays() -> None:
    sealed = seal_details(example_document(), DataKey.generate("request-1"))
    before = copy.deepcopy(sealed)

    shown = reveal_details(sealed, {"request-1": None})

    assert sealed == before, "revealing never changes what is stored"
    assert shown["persons"] == shown["summary_of_facts"] == shown["urgency_reasons"] == ERASED
    assert [m["details"] for m in shown["measures"]] == [ERASED, ERASED]
    assert shown["requesting_authority"]["contact"] == ERASED
    assert shown["requesting_authority"]["reference"] == "Kt 1234/2026"
    assert shown["measures"][0]["place"] == "Subotica"


def test_a_request_stored_before_sealing_reveals_as_it_is() -> None:
    assert reveal_details(example_document(), {}) == example_document()


def test_the_reader_takes_the_keys_from_the_vault() -> None:
    vault = InMemoryKeyVault()
    sealed = seal_details(example_document(), run(vault.create("request-1")))
    reader = PersonalDataReader(vault)

    shown, erased = run(reader.reveal(sealed))
    assert (shown, erased) == (example_document(), False)

    run(vault.destroy("request-1", NOW))
    shown, erased = run(reader.reveal(sealed))
    assert erased is True and shown["persons"] == ERASED
