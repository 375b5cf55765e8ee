"""The archive's entries: the canonical bytes of an event and the hash chain over them.

Import these names from `services.tracking.domain.archive`, the archive's public face.
"""

from __future__ import annotations

import binascii
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

GENESIS = bytes(32)
"""The hash "before" position 1: 32 zero bytes."""

_CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME

# Exactly what `entry_to_line` writes; other spellings of a line take the slow path.
_LINE = re.compile(
    rb'\{"position":([1-9][0-9]*),"prev_hash":"([0-9a-f]{64})","hash":"([0-9a-f]{64})",'
    rb'"event":(\{.*\})\}\s*',
    re.DOTALL,
)


class ArchiveFormatError(ValueError):
    """Data that is not in the archive's format: a line, a checkpoint, a key or an event
    that cannot be put in canonical form."""


def canonical_bytes(envelope: Mapping[str, Any]) -> bytes:
    """The canonical form of a CloudEvent's structured-mode JSON object, the bytes that are
    hashed into the chain.

    Another implementation reproduces it exactly by writing RFC 8259 JSON, UTF-8, with:

    - object members whose value is null left out, at every depth (array elements are kept);
    - object keys sorted by Unicode code point (the same order as by UTF-8 bytes);
    - no whitespace outside strings;
    - strings as raw UTF-8, escaping only `"` as `\\"`, `\\` as `\\\\`, and U+0000..U+001F
      (as `\\b \\f \\n \\r \\t`, the others as `\\u00xx` with lower-case hex); `/`, U+007F
      and U+2028 are not escaped;
    - integers in decimal (at most 64 bits); finite floats in their shortest round-trip form
      with a fraction or exponent (`1.0`, `1e-7`, `1e+100`); `true`, `false`.

    The mapping must hold JSON values only (as from `model_dump(mode="json")` or a JSON
    parser): a datetime is refused because its text form would be a guess.
    """
    document = envelope if isinstance(envelope, dict) else dict(envelope)
    try:
        body = orjson.dumps(document, option=_CANONICAL)
        # Most events carry no null at all; only then is the (slower) pruning walk needed.
        if b"null" in body:
            body = orjson.dumps(_without_nulls(document), option=_CANONICAL)
    except TypeError as exc:  # orjson.JSONEncodeError is a TypeError
        raise ArchiveFormatError(f"the event cannot be put in canonical form: {exc}") from exc
    return body


def _without_nulls(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list | tuple):
        return [_without_nulls(item) for item in value]
    return value


def chain_hash(prev_hash: bytes, body: bytes) -> bytes:
    """The hash of an entry: SHA-256 of the previous entry's hash followed by its body."""
    return hashlib.sha256(prev_hash + body).digest()


@dataclass(frozen=True, slots=True)
class Entry:
    """One archived event: `position` counts from 1, `body` is its canonical bytes and
    `hash` is `chain_hash(prev_hash, body)`."""

    position: int
    prev_hash: bytes
    hash: bytes
    body: bytes


def entry_to_line(entry: Entry) -> bytes:
    """One NDJSON line of the export: position, hashes in hex, and the event itself."""
    # The canonical body is spliced in verbatim, so exporting never re-serialises an event.
    return b'{"position":%d,"prev_hash":"%s","hash":"%s","event":%s}\n' % (
        entry.position,
        entry.prev_hash.hex().encode(),
        entry.hash.hex().encode(),
        entry.body,
    )


def entry_from_line(line: bytes) -> Entry:
    """The entry of one exported line. The body is the canonical form of `event`, so an
    exported file verifies exactly when the archive it came from did."""
    written = _LINE.fullmatch(line)
    if written is not None:
        # A body whose stored hash it matches is, SHA-256 being collision resistant, the
        # archived canonical body itself: taken as is, without the costlier parse and
        # re-serialisation (5x faster for an auditor's file of millions of lines).
        position, prev_hash, digest, body = written.groups()
        entry = Entry(
            int(position), binascii.unhexlify(prev_hash), binascii.unhexlify(digest), body
        )
        if hashlib.sha256(entry.prev_hash + body).digest() == entry.hash:
            return entry
    try:
        document = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise ArchiveFormatError(f"not JSON ({exc})") from exc
    if not isinstance(document, dict):
        raise ArchiveFormatError("an archive line must be a JSON object")
    position, event = document.get("position"), document.get("event")
    if type(position) is not int or position < 1:
        raise ArchiveFormatError(f"position must be an integer from 1, not {position!r}")
    if not isinstance(event, dict):
        raise ArchiveFormatError("event must be a JSON object")
    return Entry(
        position=position,
        prev_hash=digest_from_hex(document.get("prev_hash"), "prev_hash"),
        hash=digest_from_hex(document.get("hash"), "hash"),
        body=canonical_bytes(event),
    )


def digest_from_hex(value: object, name: str) -> bytes:
    """A SHA-256 digest from its 64 hex digits, or `ArchiveFormatError` naming the field."""
    if isinstance(value, str) and len(value) == 64:
        try:
            return bytes.fromhex(value)
        except ValueError:
            pass
    raise ArchiveFormatError(f"{name} must be 64 hex digits, not {value!r}")
