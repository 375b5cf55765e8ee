"""A broker reached over TLS, for tests: a small PKI and a TLS terminator in front of the
embedded broker.

The embedded broker's own TLS listener cannot be started in the pinned build (its `--cert`
and `--key` options refuse each other), so the tests put TLS where a proxy in front of a
broker would: the terminator takes TLS connections (and, asked to, checks each client's
certificate against the CA, as a Kafka listener with `ssl.client.auth=required` or a Strimzi
listener with `authentication: tls` does) and passes the bytes on to the broker, which
advertises the terminator's address so that every connection a client opens goes through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from devstack.broker import EmbeddedBroker, free_port
from tests.support.sasl import Refused, authenticate

# --- a certificate authority and what it signs ---------------------------------------------------


@dataclass(frozen=True)
class Issued:
    certfile: Path
    keyfile: Path
    serial: str  # as a TLS peer reads it (`_as_peer_reads`)


class Authority:
    """A CA of its own, writing its certificate and what it signs as PEM files in `directory`."""

    def __init__(self, directory: Path, name: str) -> None:
        self.directory = directory
        self.name = name
        self._key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self._subject = subject
        self._certificate = (
            _builder(subject, subject, self._key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_usage(certificates=True), critical=True)
            .sign(self._key, hashes.SHA256())
        )
        self.cafile = directory / f"{name}-ca.crt"
        self.cafile.write_bytes(self._certificate.public_bytes(serialization.Encoding.PEM))

    def server(self, *hosts: str) -> Issued:
        """A broker's certificate, valid for these host names and addresses."""
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        return self._issue(hosts[0], ExtendedKeyUsageOID.SERVER_AUTH, names)

    def client(self, user: str) -> Issued:
        """A client's certificate, as Strimzi's User Operator issues one (`CN=<user>`)."""
        return self._issue(user, ExtendedKeyUsageOID.CLIENT_AUTH, [])

    def _issue(
        self, common_name: str, purpose: x509.ObjectIdentifier, names: list[x509.GeneralName]
    ) -> Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        builder = (
            _builder(subject, self._subject, key.public_key())
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(certificates=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([purpose]), critical=False)
        )
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        certificate = builder.sign(self._key, hashes.SHA256())
        issued = Issued(
            self.directory / f"{self.name}-{common_name}.crt",
            self.directory / f"{self.name}-{common_name}.key",
            _as_peer_reads(certificate.serial_number),
        )
        issued.certfile.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        issued.keyfile.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return issued


def _as_peer_reads(serial: int) -> str:
    """A serial number as `ssl` gives a peer's: upper-case hexadecimal in whole bytes."""
    digits = format(serial, "X")
    return digits.zfill(len(digits) + len(digits) % 2)


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey
) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
    )


def _usage(*, certificates: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=certificates,
        crl_sign=certificates,
        encipher_only=False,
        decipher_only=False,
    )


# --- TLS in front of the broker ------------------------------------------------------------------


class ServerInThread:
    """A server for the tests' proxies on `localhost:port`, in a thread with an event loop of
    its own (so that any test's loop can use it); `_connection` takes each connection."""

    def __init__(self, port: int, name: str, context: ssl.SSLContext | None = None) -> None:
        self.port = port
        self._tls = context  # TLS from the first byte, or None: in the clear
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._server: asyncio.Server | None = None

    def start(self) -> None:
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError(f"{self._thread.name} did not start")

    def stop(self) -> None:
        if self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._connection, "localhost", self.port, ssl=self._tls)
        )
        self._started.set()
        self._loop.run_forever()
        # The connections still open when it stops end with it, not as tasks left pending.
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.close()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError


class TlsTerminator(ServerInThread):
    """Takes TLS connections on `port` and passes their bytes on to `upstream`."""

    def __init__(
        self,
        port: int,
        upstream: tuple[str, int],
        context: ssl.SSLContext,
        scram_users: dict[str, str] | None = None,
    ) -> None:
        super().__init__(port, "tls-terminator", context)
        self._upstream = upstream
        # With users: each client authenticates by SCRAM-SHA-512 first (tests/support/sasl.py).
        self._scram_users = scram_users
        # The serial number of each client certificate presented, connection by connection.
        self.presented: list[str] = []

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peercert")
        if peer:
            self.presented.append(str(peer["serialNumber"]))
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self._upstream)
        except OSError:
            writer.close()
            return
        if self._scram_users is not None:
            try:
                await authenticate(
                    (reader, writer), (upstream_reader, upstream_writer), self._scram_users
                )
            except (Refused, asyncio.IncompleteReadError, ConnectionError):
                writer.close()
                upstream_writer.close()
                return
        await asyncio.gather(
            pipe(reader, upstream_writer), pipe(upstream_reader, writer), return_exceptions=True
        )


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        with contextlib.suppress(Exception):
            writer.close()


@dataclass
class TlsBroker:
    """The embedded broker behind TLS: clients bootstrap from `bootstrap_servers`."""

    authority: Authority
    bootstrap_servers: str
    terminator: TlsTerminator


@contextlib.contextmanager
def broker_behind_tls(
    directory: Path, *, client_certificates: bool, scram_users: dict[str, str] | None = None
) -> Iterator[TlsBroker]:
    """A broker of its own reached only over TLS at `localhost:<port>`, its certificate signed
    by a new CA; with `client_certificates`, a client must present one that CA signed; with
    `scram_users` (name -> password), it must authenticate as one by SCRAM-SHA-512."""
    authority = Authority(directory, "cluster")
    server = authority.server("localhost", "127.0.0.1", "::1")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(server.certfile, server.keyfile)
    if client_certificates:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(authority.cafile)
    port = free_port()
    broker = EmbeddedBroker(free_port(), advertised_host="localhost", advertised_port=port)
    broker.start()
    terminator = TlsTerminator(port, (broker.host, broker.port), context, scram_users)
    try:
        terminator.start()
        yield TlsBroker(authority, f"localhost:{port}", terminator)
    finally:
        terminator.stop()
        broker.stop()
