"""`mla-token` and the key `make run` keeps: what they issue verifies, and only that."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from devstack.access import example_tokens
from shared.auth.cli import main
from shared.auth.keys import SharedKeyError, create_shared_key, read_shared_key
from shared.auth.principal import Role
from shared.auth.tokens import SharedKeyVerifier


def verifier(key_file: Path) -> SharedKeyVerifier:
    return SharedKeyVerifier(
        read_shared_key(key_file), issuer="mla-tracker", audience="mla-tracker"
    )


def test_the_key_is_made_once_and_readable_by_its_owner_only(tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "auth-shared.key"
    assert create_shared_key(key_file)
    first = key_file.read_text()
    assert not create_shared_key(key_file)
    assert key_file.read_text() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(read_shared_key(key_file)) >= 32


def test_a_short_or_missing_key_is_refused(tmp_path: Path) -> None:
    (tmp_path / "short.key").write_text("too-short")
    with pytest.raises(SharedKeyError, match="32 bytes"):
        read_shared_key(tmp_path / "short.key")
    with pytest.raises(SharedKeyError, match="make run"):
        read_shared_key(tmp_path / "absent.key")


async def test_mla_token_issues_a_token_with_the_defaults_of_its_party(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = tmp_path / "auth-shared.key"
    create_shared_key(key_file)
    args = ["--subject", "cases-si", "--authority", "si-dsp-ljubljana", "--key-file", str(key_file)]
    assert main(args) == 0
    principal = await verifier(key_file).verify(capsys.readouterr().out.strip())
    assert principal.authority == "si-dsp-ljubljana" and not principal.roles
    assert principal.scopes == {"requests:read", "requests:write", "subscriptions"}


def test_mla_token_wants_a_party(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["--subject", "nobody", "--key-file", str(tmp_path / "k")])


async def test_make_run_prints_one_token_per_kind_of_caller(tmp_path: Path) -> None:
    key_file = tmp_path / "auth-shared.key"
    create_shared_key(key_file)
    tokens = example_tokens(key_file)
    assert set(tokens) == {"operator", "auditor", "admin", "authority", "office"}
    admin = await verifier(key_file).verify(tokens["admin"])
    assert admin.roles == {Role.ADMIN} and {"admin", "audit"} <= admin.scopes
    office = await verifier(key_file).verify(tokens["office"])
    assert office.office_id == "vjt-subotica"
