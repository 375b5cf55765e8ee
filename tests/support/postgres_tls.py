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
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from devstack.broker import free_port
from tests.support.tls import Authority, pipe

# The first message of a client that asks for TLS: its length, then this code.
SSL_REQUEST = struct.pack("!ii", 8, 80877103)


class PostgresTlsFront:
    """Takes connections on `localhost:port`, in a thread with an event loop of its own."""

    def __init__(self, port: int, upstream: tuple[str, int], context: ssl.SSLContext) -> None:
        self.port = port
        self._upstream = upstream
        self._context = context
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name="postgres-tls", daemon=True)
        self._server: asyncio.Server | None = None
        self.encrypted = 0  # connections passed on after a TLS handshake
        self.refused = 0  # connections that did not ask for TLS

    def start(self) -> None:
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("the TLS front did not start")

    def stop(self) -> None:
        if self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._connection, "localhost", self.port)
        )
        self._started.set()
        self._loop.run_forever()
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.close()

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
