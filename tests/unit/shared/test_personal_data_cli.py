"""`python -m shared.personal_data`: the operator's way to make the master key of a deployment."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from shared.personal_data import MasterKey
from shared.personal_data.__main__ import main


def test_create_master_key_writes_a_key_the_services_load_readable_by_its_owner_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "keys" / "personal-data.key"

    assert main(["create-master-key", str(path)]) == 0

    master = MasterKey.load(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    out = capsys.readouterr().out
    assert master.kek_id in out
    assert path.read_text().strip() not in out, "the key itself is never printed"


def test_create_master_key_never_overwrites_a_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "personal-data.key"
    MasterKey.generate().save(path)
    before = path.read_bytes()

    assert main(["create-master-key", str(path)]) == 1

    assert path.read_bytes() == before, "a new key would make every stored request unreadable"
    assert "not overwritten" in capsys.readouterr().err


def test_create_master_key_does_not_write_through_a_dangling_symlink(tmp_path: Path) -> None:
    link = tmp_path / "personal-data.key"
    link.symlink_to(tmp_path / "elsewhere.key")

    assert main(["create-master-key", str(link)]) == 1

    assert not (tmp_path / "elsewhere.key").exists()


def test_master_key_id_names_the_key_without_showing_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "personal-data.key"
    master = MasterKey.generate()
    master.save(path)

    assert main(["master-key-id", str(path)]) == 0
    assert capsys.readouterr().out.strip() == master.kek_id

    assert main(["master-key-id", str(tmp_path / "missing.key")]) == 1
    assert "no personal-data master key" in capsys.readouterr().err
