"""Signed checkpoints and the keys behind them: a checkpoint signed by another key names both
keys, checkpoints bind the chain even without a public key, and checkpoints and keys travel
as JSON and PEM without changing."""

from __future__ import annotations

import orjson
import pytest

from services.tracking.domain.archive import (
    ArchiveFormatError,
    checkpoint_from_document,
    checkpoint_message,
    checkpoint_to_document,
    generate_private_key,
    key_id,
    load_private_key,
    load_public_key,
    private_key_pem,
    public_key_pem,
    verify,
)
from tests.unit.tracking.archive_samples import (
    ARCHIVE,
    CHECKPOINTS,
    KEY,
    SIGNED_AT,
    rewritten_from,
    sign_at,
)


def test_a_checkpoint_from_another_key_names_both_keys() -> None:
    other = generate_private_key()

    problem = verify(ARCHIVE, sign_at(ARCHIVE, 48, key=other), KEY.public_key()).first_problem

    assert problem is not None and problem.kind == "bad_signature"
    assert (
        key_id(other.public_key()) in problem.detail and key_id(KEY.public_key()) in problem.detail
    )


def test_without_a_public_key_checkpoints_still_bind_the_chain_but_say_so() -> None:
    clean = verify(ARCHIVE, CHECKPOINTS, None)
    rewritten = verify(rewritten_from(3)(ARCHIVE), CHECKPOINTS, None)

    assert clean.ok and not clean.signatures_checked
    assert rewritten.first_problem is not None
    assert rewritten.first_problem.kind == "checkpoint_mismatch"


def test_a_checkpoint_travels_as_json_and_still_verifies() -> None:
    checkpoint = CHECKPOINTS[1]

    back = checkpoint_from_document(orjson.loads(orjson.dumps(checkpoint_to_document(checkpoint))))

    assert back == checkpoint
    assert checkpoint_message(32, ARCHIVE[31].hash, SIGNED_AT).startswith(
        b"mla-archive-checkpoint/v1\n32\n"
    )
    with pytest.raises(ArchiveFormatError):
        checkpoint_from_document({**checkpoint_to_document(checkpoint), "head_hash": "abc"})


def test_keys_travel_as_pem_and_keep_their_id() -> None:
    private = load_private_key(private_key_pem(KEY))
    public = load_public_key(public_key_pem(KEY))

    assert key_id(public) == key_id(private.public_key()) == key_id(KEY.public_key())
    assert len(key_id(public)) == 16
    with pytest.raises(ArchiveFormatError):
        load_public_key(private_key_pem(KEY))
