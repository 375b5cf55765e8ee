"""Which webhook targets notify calls, and which it refuses."""

from __future__ import annotations

import pytest

from services.notify.domain.errors import TargetRefusedError
from services.notify.domain.targets import address_refusal, check_addresses, parse_target


@pytest.mark.parametrize(
    ("address", "what"),
    [
        ("127.0.0.1", "a loopback address"),
        ("::1", "a loopback address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("10.0.0.8", "a private address"),
        ("172.16.5.4", "a private address"),
        ("192.168.1.1", "a private address"),
        ("fd00::1", "a private address"),
        ("169.254.169.254", "a link-local address"),
        ("fe80::1%eth0", "a link-local address"),
        ("100.64.0.1", "not a public address"),
        ("224.0.0.251", "a multicast address"),
        ("0.0.0.0", "the unspecified address"),
    ],
)
def test_addresses_outside_the_public_internet_are_refused(address: str, what: str) -> None:
    assert address_refusal(address, allow_private=False) == what


def test_public_addresses_are_called() -> None:
    assert address_refusal("8.8.8.8", allow_private=False) is None
    assert address_refusal("2a00:1450:4001:80b::200e", allow_private=False) is None


def test_allowing_private_targets_never_allows_multicast_or_unspecified() -> None:
    assert address_refusal("127.0.0.1", allow_private=True) is None
    assert address_refusal("10.0.0.8", allow_private=True) is None
    assert address_refusal("ff02::1", allow_private=True) == "a multicast address"
    assert address_refusal("::", allow_private=True) == "the unspecified address"


def test_one_refused_address_among_those_a_name_resolves_to_refuses_the_target() -> None:
    target = parse_target("https://hooks.example.si/mla?tenant=7")
    checked = check_addresses(target, ["8.8.8.8", "2001:4860:4860::8888"], allow_private=False)
    assert checked == ["8.8.8.8", "2001:4860:4860::8888"]
    with pytest.raises(TargetRefusedError, match=r"hooks.example.si resolves to 10.0.0.1"):
        check_addresses(target, ["8.8.8.8", "10.0.0.1"], allow_private=False)


def test_the_request_goes_to_the_checked_address_with_the_original_host() -> None:
    target = parse_target("https://Hooks.Example.si:8443/mla?tenant=7")
    assert target.url_for("8.8.8.8") == "https://8.8.8.8:8443/mla?tenant=7"
    assert target.url_for("2a00::1") == "https://[2a00::1]:8443/mla?tenant=7"
    assert target.host_header == "hooks.example.si:8443"
    assert parse_target("http://hooks.example.si").host_header == "hooks.example.si"
    assert parse_target("http://hooks.example.si").path == "/"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.si/x",
        "file:///etc/passwd",
        "hooks.example.si/x",
        "https://user:pw@hooks.example.si/x",
        "https:///x",
        "http://hooks.example.si:99999/x",
        "https://hooks.example.si/x#part",
    ],
)
def test_only_plain_http_and_https_urls_are_targets(url: str) -> None:
    with pytest.raises(TargetRefusedError):
        parse_target(url)
