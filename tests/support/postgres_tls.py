"""A PostgreSQL reached only over TLS, for tests: a front in front of the test server.

The embedded server is built without OpenSSL, so the tests put TLS where a managed server
has it: the front answers a client's `SSLRequest` with yes, takes the TLS handshake with a
certificate its own CA signed, and passes the bytes on, in the clear, to the test server.
A client that starts without asking for TLS is refused, as by a server whose `pg_hba.conf`
has only `hostssl` lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from devstack.broker import free_port
from tests.support.tls import Authority, ServerInThread, pipe

# The first message of a client that asks for TLS: its length, then this code.
SSL_REQUEST = struct.pack("!ii", 8, 80877103)


class PostgresTlsFront(ServerInThread):
    """Takes connections on `localhost:port`; passes on those that asked for TLS."""

    def __init__(self, port: int, upstream: tuple[str, int], context: ssl.SSLContext) -> None:
        super().__init__(port, "postgres-tls")  # in the clear until the client asks
        self._upstream = upstream
        self._context = context
        self.encrypted = 0  # connections passed on after a TLS handshake
        self.refused = 0  # connections that did not ask for TLS

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if await reader.readexactly(len(SSL_REQUEST)) != SSL_REQUEST:
                self.refused += 1
                writer.close()
                return
            writer.write(b"S")
            await writer.drain()
            await writer.start_tls(self._context)
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            writer.close()  # a handshake the client gave up (a certificate it did not trust)
            return
        self.encrypted += 1
        upstream_reader, upstream_writer = await asyncio.open_connection(*self._upstream)
        await asyncio.gather(
            pipe(reader, upstream_writer), pipe(upstream_reader, writer), return_exceptions=True
        )


@dataclass
class TlsPostgres:
    """The test server behind TLS: `url` names it (database `postgres`) at the front."""

    authority: Authority
    url: str
    front: PostgresTlsFront


@contextlib.contextmanager
def postgres_behind_tls(directory: Path, server_url: str) -> Iterator[TlsPostgres]:
    """The server of `server_url` reached only over TLS at `localhost:<port>`, its
    certificate signed by a new CA."""
    authority = Authority(directory, "database")
    server = authority.server("localhost", "127.0.0.1")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(server.certfile, server.keyfile)
    given = make_url(server_url)
    upstream = ("127.0.0.1", int(given.port or given.query.get("port") or 5432))  # type: ignore[arg-type]
    front = PostgresTlsFront(free_port(), upstream, context)
    front.start()
    try:
        url = given.difference_update_query(["host", "port"]).set(host="localhost", port=front.port)
        yield TlsPostgres(authority, url.render_as_string(hide_password=False), front)
    finally:
        front.stop()
