"""Which webhook targets notify calls.

Only http and https, without credentials in the URL. A target whose host is, or resolves to,
an address outside the public internet (private, loopback, link-local, shared, reserved) is
refused unless the deployment allows private targets; multicast and unspecified addresses are
refused always. The same check runs when a subscription is made and before every attempt, on
the addresses the host resolves to at that moment, and the attempt connects to the address
that was checked: a name that resolves to a public address today and to 127.0.0.1 tomorrow
(DNS rebinding) is refused tomorrow.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from services.notify.domain.errors import TargetRefusedError

DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Target:
    """A webhook URL taken apart: where to connect, and what to ask for."""

    scheme: str
    host: str
    port: int
    path: str  # path and query, never empty

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"

    def url_for(self, address: str) -> str:
        """The URL with the host replaced by one checked address it resolved to."""
        host = f"[{address}]" if ":" in address else address
        return f"{self.scheme}://{host}:{self.port}{self.path}"


def parse_target(url: str) -> Target:
    """The target of a webhook URL, or `TargetRefusedError` saying why it is not one."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise TargetRefusedError(f"not a valid URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise TargetRefusedError("only http and https targets are called")
    if parts.username is not None or parts.password is not None:
        raise TargetRefusedError("credentials in the URL are not accepted; use the signature")
    if not parts.hostname:
        raise TargetRefusedError("the URL names no host")
    if parts.fragment:
        raise TargetRefusedError("a webhook URL has no fragment")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme], path)


def address_refusal(address: str, *, allow_private: bool) -> str | None:
    """What `address` (an IP address) is, when notify will not connect to it; else None."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone index
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_unspecified:
        return "the unspecified address"
    if allow_private or ip.is_global:
        return None
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_private:
        return "a private address"
    return "not a public address"


def is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def check_addresses(target: Target, addresses: list[str], *, allow_private: bool) -> list[str]:
    """The addresses to connect to (in the resolver's order), when every address the host
    resolved to is allowed; otherwise `TargetRefusedError` naming the first refused one."""
    if not addresses:
        raise TargetRefusedError(f"{target.host} does not resolve to any address")
    for address in addresses:
        if (what := address_refusal(address, allow_private=allow_private)) is not None:
            if is_address(target.host):
                raise TargetRefusedError(f"target refused: {address} is {what}")
            raise TargetRefusedError(f"target refused: {target.host} resolves to {address}, {what}")
    return addresses
