"""The TLS of a service's broker clients: one context made from the files, and kept in step
with them.

A production client certificate is short-lived: Strimzi's User Operator renews a user's a
month before it expires, and the mounted files change under the running service. The context
every client of the service shares is loaded again in place when they change
(`reload_if_changed`, looked at every minute by the runtime), so that the connections opened
after it present the new certificate without a restart; an open connection keeps the one it
was made with, which the broker checked when it was opened. A CA renewed likewise is added to
what the context trusts. And `expires_at` says until when the certificate in use holds,
which operators are alerted by (`mla_kafka_certificate_expiry_timestamp_seconds`).
"""

from __future__ import annotations

import ssl
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import structlog
from cryptography import x509

from shared.metrics import KAFKA_CERTIFICATE_EXPIRY
from shared.periodic import Periodic

log = structlog.get_logger("shared.broker_tls")


T = TypeVar("T")


class TlsFilesError(ValueError):
    """A CA or certificate file that cannot be read or does not fit; says which."""


@dataclass(frozen=True)
class ClientCertificate:
    """The certificate a client presents in mutual TLS, and its private key (PEM files)."""

    certfile: Path
    keyfile: Path


class BrokerTls:
    """The TLS context of every client of one broker connection, and the files behind it."""

    def __init__(self, cafile: Path | None, certificate: ClientCertificate | None) -> None:
        self.cafile = cafile
        self.certificate = certificate
        self.context = self._context()
        self._loaded = self._stamp()
        self.expires_at = _expiry(certificate.certfile.read_bytes()) if certificate else None

    def reload_if_changed(self) -> bool:
        """Load the files again into the same context when they changed since; True when it
        did. Files caught half-written (a key that does not fit its certificate) raise
        `TlsFilesError` and leave the context as it was: the next look takes them."""
        stamp = self._stamp()
        if stamp == self._loaded:
            return False
        if self.cafile is not None:
            self._load(lambda: self.context.load_verify_locations(str(self.cafile)), self.cafile)
        if self.certificate is not None:
            self.expires_at = _expiry(self._replace_certificate(self.certificate))
        self._loaded = stamp
        return True

    def _replace_certificate(self, files: ClientCertificate) -> bytes:
        """The pair as it is now, tried on a context of its own before the live one takes
        it: a live context given a key that does not fit drops its certificate altogether.
        Both take the same bytes, copied once, whatever the files do meanwhile; the
        certificate's are returned."""
        with tempfile.TemporaryDirectory(prefix="mla-broker-tls-") as folder:
            copy = ClientCertificate(Path(folder) / "user.crt", Path(folder) / "user.key")
            try:
                certificate = files.certfile.read_bytes()
                copy.certfile.write_bytes(certificate)
                copy.keyfile.write_bytes(files.keyfile.read_bytes())
            except OSError as exc:
                raise TlsFilesError(f"the client certificate {files.certfile}: {exc}") from exc
            self._load_certificate(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), copy, named=files)
            self._load_certificate(self.context, copy, named=files)
        return certificate

    def _context(self) -> ssl.SSLContext:
        # The broker's certificate and its name are checked, as any TLS client does.
        cafile = str(self.cafile) if self.cafile else None
        context = self._load(lambda: ssl.create_default_context(cafile=cafile), self.cafile)
        if self.certificate is not None:
            self._load_certificate(context, self.certificate, named=self.certificate)
        return context

    @staticmethod
    def _load_certificate(
        context: ssl.SSLContext, files: ClientCertificate, *, named: ClientCertificate
    ) -> None:
        try:
            context.load_cert_chain(str(files.certfile), str(files.keyfile))
        except (OSError, ssl.SSLError) as exc:
            raise TlsFilesError(
                f"the client certificate {named.certfile} with key {named.keyfile}: {exc}"
            ) from exc

    @staticmethod
    def _load(action: Callable[[], T], cafile: Path | None) -> T:
        try:
            return action()
        except (OSError, ssl.SSLError) as exc:
            raise TlsFilesError(f"the broker's CA file {cafile}: {exc}") from exc

    def _stamp(self) -> tuple[tuple[int, int] | None, ...]:
        """When and how large each file is (a Secret's update swaps them whole)."""
        files = [self.cafile]
        if self.certificate is not None:
            files += [self.certificate.certfile, self.certificate.keyfile]
        stamps: list[tuple[int, int] | None] = []
        for path in files:
            try:
                stat = path.stat() if path is not None else None
            except OSError:
                stat = None
            stamps.append((stat.st_mtime_ns, stat.st_size) if stat else None)
        return tuple(stamps)


# Often enough for a file that changes a month before it must; cheap (three stat calls).
WATCH_SECONDS = 60.0


def certificate_watch(tls: BrokerTls, every: float = WATCH_SECONDS) -> Periodic:
    """A worker that takes renewed files into the context and keeps the expiry gauge."""

    async def look() -> None:
        try:
            if tls.reload_if_changed():
                log.info("broker_tls.reloaded", expires_at=_iso(tls.expires_at))
        except TlsFilesError as exc:
            log.warning("broker_tls.reload_failed", error=str(exc))
        if tls.expires_at is not None:
            KAFKA_CERTIFICATE_EXPIRY.set(tls.expires_at.timestamp())

    return Periodic("broker-certificate", every, look)


def _expiry(pem: bytes) -> datetime | None:
    """When the (first) certificate of a PEM chain expires; None when it reads as none."""
    try:
        return x509.load_pem_x509_certificate(pem).not_valid_after_utc
    except ValueError:
        return None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
