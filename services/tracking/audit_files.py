"""The files an auditor works with: the NDJSON export, its checkpoints and the public key.

`export` writes FILE, FILE.checkpoints.json and FILE.pub.pem side by side; the other
commands read them back, and say which file and which line when one is not what it should
be.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from tqdm import tqdm

from services.tracking.domain.archive import (
    ArchiveFormatError,
    Checkpoint,
    Entry,
    checkpoint_from_document,
    entry_from_line,
    load_public_key,
)

# The progress bar is moved on every this many lines: per entry it would cost more than
# the hashing it reports on.
_PROGRESS_STEP = 8192


class AuditError(Exception):
    """A command that cannot run: a missing or garbled file, an unreachable server."""


def checkpoints_path(export: Path) -> Path:
    """Where `export` puts the checkpoints of FILE."""
    return export.with_name(export.name + ".checkpoints.json")


def public_key_path(export: Path) -> Path:
    """Where `export` puts the public key that signed the checkpoints of FILE."""
    return export.with_name(export.name + ".pub.pem")


def progress(description: str, path: Path | None = None, *, quiet: bool) -> Any:
    """A progress bar on stderr, over the bytes of `path` (or counting entries), shown only
    to a person at a terminal."""
    total = path.stat().st_size if path is not None and path.is_file() else None
    return tqdm(
        total=total,
        desc=description,
        unit="B" if total is not None else " entries",
        unit_scale=total is not None,
        file=sys.stderr,
        disable=quiet or not sys.stderr.isatty(),
        leave=False,
    )


class ArchiveFile:
    """The entries of an export file, read lazily, in file order.

    A garbled line ends the entries: `garbled` then holds its line number and what is
    wrong, so that verification reports it in its place. With `strict`, it raises
    `AuditError` instead (replaying a damaged file would silently give wrong views).
    """

    def __init__(self, path: Path, bar: Any, *, strict: bool = False) -> None:
        self.path = path
        self.garbled: tuple[int, str] | None = None
        self._bar = bar
        self._strict = strict
        self._stream: IO[bytes] | None = None

    def __enter__(self) -> ArchiveFile:
        try:
            self._stream = self.path.open("rb")
        except OSError as exc:
            raise AuditError(f"{self.path}: {exc.strerror or exc}") from exc
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._bar.close()
        if self._stream is not None:
            self._stream.close()

    def __iter__(self) -> Iterator[Entry]:
        if self._stream is None:
            raise RuntimeError("open the archive file with `with` first")
        read = 0
        for number, line in enumerate(self._stream, 1):
            read += len(line)
            if number % _PROGRESS_STEP == 0:
                self._bar.update(read)
                read = 0
            if line.isspace():  # stops at the first character: cheap on a real line
                continue  # a blank line carries nothing: no entry can hide in it
            try:
                entry = entry_from_line(line)
            except ArchiveFormatError as exc:
                self._garbled(number, str(exc))
                return
            yield entry
        self._bar.update(read)

    def _garbled(self, number: int, why: str) -> None:
        self.garbled = (number, why)
        if self._strict:
            raise AuditError(
                f"{self.path} line {number} is not an archive entry ({why}); "
                "run `mla-audit verify` on it"
            )


def read_checkpoints(path: Path) -> list[Checkpoint]:
    """The checkpoints of a JSON file (a list of `checkpoint_to_document` objects)."""
    return parse_checkpoints(_bytes(path), str(path))


def parse_checkpoints(raw: bytes, origin: str) -> list[Checkpoint]:
    """The checkpoints of a JSON list, or `AuditError` naming `origin` and the item."""
    try:
        documents = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise AuditError(f"{origin}: not JSON ({exc})") from exc
    if not isinstance(documents, list):
        raise AuditError(f"{origin}: expected a JSON list of checkpoints")
    checkpoints = []
    for index, document in enumerate(documents):
        if not isinstance(document, dict):
            raise AuditError(f"{origin}: checkpoint {index} is not a JSON object")
        try:
            checkpoints.append(checkpoint_from_document(document))
        except ArchiveFormatError as exc:
            raise AuditError(f"{origin}: checkpoint {index}: {exc}") from exc
    return checkpoints


def read_public_key(path: Path) -> Ed25519PublicKey:
    """The Ed25519 public key of a PEM file."""
    try:
        return load_public_key(_bytes(path))
    except ArchiveFormatError as exc:
        raise AuditError(f"{path}: {exc}") from exc


def _bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise AuditError(f"{path}: {exc.strerror or exc}") from exc
