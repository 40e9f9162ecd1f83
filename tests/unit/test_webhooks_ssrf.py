"""The SSRF guard refuses forbidden webhook targets without sending a single packet."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from worker.net.ssrf import ForbiddenTarget, check_url, is_forbidden_ip

# Fake DNS: host name -> addresses. No test here ever asks the real resolver.
FAKE_DNS: dict[str, list[str]] = {
    "private10.example": ["10.0.0.5"],
    "private172.example": ["172.16.3.4"],
    "private192.example": ["192.168.1.1"],
    "ula.example": ["fd00::1"],
    "loop.example": ["127.0.0.1"],
    "loop6.example": ["::1"],
    "linklocal.example": ["169.254.169.254"],
    "linklocal6.example": ["fe80::1"],
    "cgnat.example": ["100.64.0.1"],
    "zero.example": ["0.0.0.0"],
    "unspec6.example": ["::"],
    "class-e.example": ["240.0.0.1"],
    "multicast.example": ["224.0.0.1"],
    "multicast6.example": ["ff02::1"],
    "broadcast.example": ["255.255.255.255"],
    "ietf.example": ["192.0.0.8"],
    "testnet1.example": ["192.0.2.10"],
    "bench.example": ["198.18.0.1"],
    "testnet2.example": ["198.51.100.7"],
    "testnet3.example": ["203.0.113.9"],
    "doc6.example": ["2001:db8::1"],
    "mapped.example": ["::ffff:127.0.0.1"],
    "mapped-private.example": ["::ffff:10.0.0.1"],
    "nat64.example": ["64:ff9b::a00:1"],
    "nat64-local.example": ["64:ff9b:1::1"],
    "sixtofour.example": ["2002:7f00:1::1"],
    "teredo.example": ["2001:0:4136:e378::1"],
    "v4compat.example": ["::127.0.0.1"],
    "mixed.example": ["93.184.215.14", "10.0.0.5"],
    "empty.example": [],
    "public.example": ["93.184.215.14"],
    "public6.example": ["2606:4700::1111"],
    "public-6to4.example": ["2002:5db8:d70e::1"],
    "public-dual.example": ["93.184.215.14", "2606:4700::1111"],
}


def fake_resolve(host: str, port: int) -> list[str]:
    if host not in FAKE_DNS:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return FAKE_DNS[host]


def no_resolve(host: str, port: int) -> list[str]:
    raise AssertionError(f"resolver called for a literal host {host!r}")


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection or real DNS lookup fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network use attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "gethostbyname", refuse)


REFUSED_NAMES = [
    ("http://private10.example/hook", "10.0.0.5, a private address"),
    ("http://private172.example/", "a private address"),
    ("https://private192.example/", "a private address"),
    ("https://ula.example/", "fd00::1, a private address"),
    ("http://loop.example/", "127.0.0.1, a loopback address"),
    ("http://loop6.example/", "::1, a loopback address"),
    ("http://linklocal.example/latest/meta-data", "a link-local address"),
    ("http://linklocal6.example/", "a link-local address"),
    ("http://cgnat.example/", "carrier-grade NAT"),
    ("http://zero.example/", "an unspecified address"),
    ("http://unspec6.example/", "an unspecified address"),
    ("http://class-e.example/", "a reserved address"),
    ("http://multicast.example/", "a multicast address"),
    ("http://multicast6.example/", "a multicast address"),
    ("http://broadcast.example/", "a broadcast address"),
    ("http://ietf.example/", "IETF protocol assignment"),
    ("http://testnet1.example/", "a documentation address"),
    ("http://bench.example/", "a benchmarking address"),
    ("http://testnet2.example/", "a documentation address"),
    ("http://testnet3.example/", "a documentation address"),
    ("http://doc6.example/", "a documentation address"),
    ("http://mapped.example/", "IPv4-mapped loopback"),
    ("http://mapped-private.example/", "IPv4-mapped private"),
    ("http://nat64.example/", "a NAT64 address"),
    ("http://nat64-local.example/", "a NAT64 address"),
    ("http://sixtofour.example/", "6to4-embedded loopback"),
    ("http://teredo.example/", "a Teredo address"),
    ("http://v4compat.example/", "a reserved address"),
    ("http://mixed.example/", "10.0.0.5, a private address"),
    ("http://empty.example/", "resolves to no address"),
    ("http://nxdomain.example/", "does not resolve"),
]

REFUSED_LITERALS = [
    ("http://127.0.0.1/", "is a loopback address"),
    ("http://127.0.0.1./", "(127.0.0.1) is a loopback address"),
    ("http://10.1.2.3:8080/x", "is a private address"),
    ("http://[::1]/", "is a loopback address"),
    ("http://[::ffff:7f00:1]/", "IPv4-mapped loopback"),
    ("http://[::ffff:8.8.8.8]/", "IPv4-mapped IPv6"),
    ("http://[64:ff9b::808:808]/", "NAT64"),
    ("http://[3fff::1]/", "is a documentation address"),
    ("http://[fe80::1%25eth0]/", "link-local"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://2130706433/", "(127.0.0.1) is a loopback address"),
    ("http://0x7f.1/", "(127.0.0.1) is a loopback address"),
    ("http://017700000001/", "(127.0.0.1) is a loopback address"),
    ("http://0x7f000001/", "(127.0.0.1) is a loopback address"),
    ("http://127.1/", "(127.0.0.1) is a loopback address"),
    ("http://0/", "(0.0.0.0) is an unspecified address"),
    ("http://0xa.0.0.1/", "(10.0.0.1) is a private address"),
    ("http://3232235777/", "(192.168.1.1) is a private address"),
    ("http://256.1.1.1/", "not a valid IPv4 address"),
    ("http://09.1.1.1/", "not a valid IPv4 address"),
    ("http://localhost:8000/", "is a loopback name"),
    ("http://api.LOCALHOST/", "is a loopback name"),
]

REFUSED_SHAPES = [
    ("ftp://x", "webhook url 'ftp://x' must use http or https"),
    ("file:///etc/passwd", "must use http or https"),
    ("gopher://public.example/", "must use http or https"),
    ("javascript:alert(1)", "must use http or https"),
    ("public.example/hook", "must use http or https"),
    ("http://", "has no host"),
    ("http:///path", "has no host"),
    ("https://:443/", "has no host"),
    ("http://user:pw@public.example/", "must not carry credentials"),
    ("http://public.example:99999/", "not a valid URL"),
    ("http://public.example:abc/", "not a valid URL"),
]


@pytest.mark.parametrize(("url", "message"), REFUSED_NAMES, ids=[u for u, _ in REFUSED_NAMES])
def test_names_resolving_to_forbidden_addresses_are_refused(url: str, message: str) -> None:
    with pytest.raises(ForbiddenTarget) as info:
        check_url(url, resolve=fake_resolve)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(("url", "message"), REFUSED_LITERALS, ids=[u for u, _ in REFUSED_LITERALS])
def test_literal_forbidden_hosts_are_refused_without_resolving(url: str, message: str) -> None:
    with pytest.raises(ForbiddenTarget) as info:
        check_url(url, resolve=no_resolve)
    assert message in str(info.value)


@pytest.mark.parametrize(("url", "message"), REFUSED_SHAPES, ids=[u for u, _ in REFUSED_SHAPES])
def test_bad_url_shapes_are_refused(url: str, message: str) -> None:
    with pytest.raises(ForbiddenTarget) as info:
        check_url(url, resolve=fake_resolve)
    assert message in str(info.value)


@pytest.mark.parametrize(
    "url",
    [
        "https://public.example/hooks/1",
        "http://public6.example:8080/",
        "https://public-6to4.example/",
        "https://public-dual.example/",
        "HTTPS://PUBLIC.EXAMPLE/",
    ],
)
def test_public_names_are_allowed(url: str) -> None:
    assert check_url(url, resolve=fake_resolve) is None


@pytest.mark.parametrize(
    "url", ["https://93.184.215.14/", "http://[2606:4700::1111]:8443/x", "http://8.8.8.8/"]
)
def test_public_literals_are_allowed_without_resolving(url: str) -> None:
    assert check_url(url, resolve=no_resolve) is None


def test_resolver_gets_host_and_default_port() -> None:
    calls: list[tuple[str, int]] = []

    def recording(host: str, port: int) -> list[str]:
        calls.append((host, port))
        return ["93.184.215.14"]

    check_url("https://public.example/", resolve=recording)
    check_url("http://public.example/", resolve=recording)
    check_url("http://public.example:8080/", resolve=recording)
    assert calls == [("public.example", 443), ("public.example", 80), ("public.example", 8080)]


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000/", "http://localhost/", "http://loop.example/", "http://10.0.0.5/"]
)
def test_allow_private_lets_any_http_target_through_unresolved(url: str) -> None:
    assert check_url(url, allow_private=True, resolve=no_resolve) is None


def test_allow_private_still_needs_http_and_a_host() -> None:
    with pytest.raises(ForbiddenTarget, match="must use http or https"):
        check_url("ftp://127.0.0.1/", allow_private=True)
    with pytest.raises(ForbiddenTarget, match="has no host"):
        check_url("http://", allow_private=True)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("10.255.255.255", "private"),
        ("172.31.255.255", "private"),
        ("172.32.0.1", None),
        ("100.127.255.255", "carrier-grade NAT"),
        ("100.128.0.1", None),
        ("127.255.0.1", "loopback"),
        ("198.19.255.255", "benchmarking"),
        ("198.20.0.1", None),
        ("239.255.255.255", "multicast"),
        ("255.255.255.255", "broadcast"),
        ("1.1.1.1", None),
        ("fc00::1", "private"),
        ("fec0::1", "site-local"),
        ("2001:db8:ffff::1", "documentation"),
        ("3fff::1", "documentation"),  # RFC 9637
        ("3fff:fff:ffff::1", "documentation"),
        ("3fff:1000::1", None),  # just past 3fff::/20
        ("2001:2::1", "reserved"),
        ("2002:0a00:0001::1", "6to4-embedded private"),
        ("2002:0808:0808::1", None),
        ("::ffff:8.8.8.8", "IPv4-mapped IPv6"),
        ("100::1", "discard-only"),
        ("2a00:1450:4001::1", None),
    ],
)
def test_is_forbidden_ip_boundaries(address: str, reason: str | None) -> None:
    assert is_forbidden_ip(ipaddress.ip_address(address)) == reason


def test_default_resolver_is_getaddrinfo(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[object, ...]] = []

    def fake_getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list[tuple[object, ...]]:
        asked.append((host, port))
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.168.0.10", port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    with pytest.raises(ForbiddenTarget, match=r"'intranet\.example' resolves to 192\.168\.0\.10, a private"):
        check_url("https://intranet.example/hook")
    assert asked == [("intranet.example", 443)]
