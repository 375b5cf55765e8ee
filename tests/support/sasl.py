"""SASL/SCRAM-SHA-512 in front of the embedded broker, for tests: the part of a Kafka listener
with `sasl.enabled.mechanisms=SCRAM-SHA-512` that checks a client's password.

The embedded broker authenticates SCRAM users only when started with `--authentication`,
and then refuses the unauthenticated connection its own `user create` needs to make one: no
user can ever be made. So the TLS terminator (tests/support/tls.py) can take the SASL
exchange itself, as the broker would: it answers the client's `SaslHandshake` and
`SaslAuthenticate` requests (RFC 5802 on the server's side, the Kafka 1.0 framing), passes
`ApiVersions` on to the broker meanwhile, closes a connection that asks anything else before
it has authenticated, and once it has, passes every byte on.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import struct
from dataclasses import dataclass

MECHANISM = "SCRAM-SHA-512"
ITERATIONS = 4096
API_VERSIONS, SASL_HANDSHAKE, SASL_AUTHENTICATE = 18, 17, 36
UNSUPPORTED_SASL_MECHANISM, SASL_AUTHENTICATION_FAILED = 33, 58


class Refused(Exception):
    """The client did not authenticate: its connection is closed."""


@dataclass
class _Frame:
    api_key: int
    api_version: int
    correlation_id: int
    body: bytes  # after the request header


async def authenticate(
    client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    broker: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    users: dict[str, str],
) -> str:
    """Take the client through SCRAM-SHA-512; the user it proved to be, or `Refused`."""
    reader, writer = client
    scram: _ScramExchange | None = None
    while True:
        raw = await _read_frame(reader)
        frame = _request(raw)
        if frame.api_key == API_VERSIONS:
            broker[1].write(raw)
            await broker[1].drain()
            writer.write(await _read_frame(broker[0]))
        elif frame.api_key == SASL_HANDSHAKE:
            mechanism = _string(frame.body, 0)[0]
            error = 0 if mechanism == MECHANISM else UNSUPPORTED_SASL_MECHANISM
            _respond(writer, frame, struct.pack(">hi", error, 1) + _put_string(MECHANISM))
            if error:
                raise Refused(f"mechanism {mechanism}")
        elif frame.api_key == SASL_AUTHENTICATE:
            (length,) = struct.unpack_from(">i", frame.body, 0)
            token = frame.body[4 : 4 + length]
            if scram is None:
                scram = _ScramExchange(users)
                answer, error = scram.first(token), ""
            else:
                answer, error = scram.final(token)
            code = SASL_AUTHENTICATION_FAILED if error else 0
            body = struct.pack(">h", code) + _put_nullable(error or None) + _put_bytes(answer)
            if frame.api_version >= 1:
                body += struct.pack(">q", 0)
            _respond(writer, frame, body)
            await writer.drain()
            if error:
                raise Refused(error)
            if scram.user is not None:
                return scram.user
        else:
            raise Refused(f"request {frame.api_key} before authenticating")
        await writer.drain()


class _ScramExchange:
    def __init__(self, users: dict[str, str]) -> None:
        self._users = users
        self.user: str | None = None
        self._claimed = ""
        self._first_bare = self._server_first = self._nonce = ""
        self._salted = b""

    def first(self, token: bytes) -> bytes:
        message = token.decode()
        assert message.startswith("n,,"), "no channel binding"
        self._first_bare = message[3:]
        fields = dict(part.split("=", 1) for part in self._first_bare.split(","))
        self._claimed = fields["n"]
        salt = os.urandom(16)
        self._nonce = fields["r"] + base64.b64encode(os.urandom(18)).decode()
        password = self._users.get(self._claimed, os.urandom(16).hex())  # no user: fails later
        self._salted = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, ITERATIONS)
        self._server_first = f"r={self._nonce},s={base64.b64encode(salt).decode()},i={ITERATIONS}"
        return self._server_first.encode()

    def final(self, token: bytes) -> tuple[bytes, str]:
        message = token.decode()
        without_proof, _, proof = message.rpartition(",p=")
        fields = dict(part.split("=", 1) for part in without_proof.split(","))
        if fields.get("r") != self._nonce:
            return b"", "nonce mismatch"
        auth = f"{self._first_bare},{self._server_first},{without_proof}".encode()
        client_key = _hmac(self._salted, b"Client Key")
        stored = hashlib.sha512(client_key).digest()
        signature = _hmac(stored, auth)
        claimed = bytes(a ^ b for a, b in zip(base64.b64decode(proof), signature, strict=True))
        if self._claimed not in self._users or hashlib.sha512(claimed).digest() != stored:
            return b"", f"authentication failed for {self._claimed}"
        self.user = self._claimed
        server_signature = _hmac(_hmac(self._salted, b"Server Key"), auth)
        return f"v={base64.b64encode(server_signature).decode()}".encode(), ""


def _hmac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha512).digest()


async def _read_frame(reader: asyncio.StreamReader) -> bytes:
    size = await reader.readexactly(4)
    return size + await reader.readexactly(struct.unpack(">i", size)[0])


def _request(raw: bytes) -> _Frame:
    api_key, api_version, correlation_id = struct.unpack_from(">hhi", raw, 4)
    _client_id, offset = _string(raw, 12)  # request header v1: a nullable string
    return _Frame(api_key, api_version, correlation_id, raw[offset:])


def _respond(writer: asyncio.StreamWriter, frame: _Frame, body: bytes) -> None:
    payload = struct.pack(">i", frame.correlation_id) + body  # response header v0
    writer.write(struct.pack(">i", len(payload)) + payload)


def _string(data: bytes, offset: int) -> tuple[str | None, int]:
    (length,) = struct.unpack_from(">h", data, offset)
    if length < 0:
        return None, offset + 2
    return data[offset + 2 : offset + 2 + length].decode(), offset + 2 + length


def _put_string(value: str) -> bytes:
    encoded = value.encode()
    return struct.pack(">h", len(encoded)) + encoded


def _put_nullable(value: str | None) -> bytes:
    return struct.pack(">h", -1) if value is None else _put_string(value)


def _put_bytes(value: bytes) -> bytes:
    return struct.pack(">i", len(value)) + value
