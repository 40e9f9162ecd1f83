"""Which targets outgoing requests may call: no private, loopback, link-local or reserved address.

The rules of every outgoing request (webhooks, upstream feeds and pages, WebSub hubs).
``check_url`` is the early check at subscription time: the scheme, the host, and every address
the host resolves to. ``check_static`` is the check before a request, with no DNS (scheme, host,
credentials, a forbidden literal address). DNS can change between a check and a connection, so
``worker.net.guard`` resolves once per connection, checks those addresses, connects to the
checked one and checks the address it actually connected to again.

Decisions: only ``http`` and ``https``; a URL carrying credentials (``user:pass@``) is
refused, since the URL is shown in logs and listings; ``localhost`` and ``*.localhost``
are loopback without asking DNS (RFC 6761); numeric IPv4 forms that ``inet_aton`` and
browsers accept (``2130706433``, ``0x7f.1``, ``017700000001``) are parsed as addresses.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]


class ForbiddenTarget(ValueError):
    """A webhook URL or address that must not be called."""


def _nets(*pairs: tuple[str, str]) -> list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str]]:
    return [(ipaddress.ip_network(net), reason) for net, reason in pairs]


# Order matters: the first match names the reason (broadcast before the 240/4 block).
_V4_FORBIDDEN = _nets(
    ("255.255.255.255/32", "broadcast"),
    ("0.0.0.0/8", "unspecified"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "carrier-grade NAT"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "IETF protocol assignment"),
    ("192.0.2.0/24", "documentation"),
    ("192.88.99.0/24", "reserved (6to4 relay)"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
)

_V6_FORBIDDEN = _nets(
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("64:ff9b::/96", "NAT64"),
    ("64:ff9b:1::/48", "NAT64"),
    ("100::/64", "discard-only"),
    ("2001::/32", "Teredo"),
    ("2001:db8::/32", "documentation"),
    ("3fff::/20", "documentation"),  # RFC 9637
    ("fc00::/7", "private"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local"),
    ("ff00::/8", "multicast"),
)

_SIXTOFOUR = ipaddress.ip_network("2002::/16")
_V6_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")
_NUMERIC_PART = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$", re.IGNORECASE)


def is_forbidden_ip(ip: IPAddress) -> str | None:
    """Why ``ip`` must not be called (``"loopback"``, ``"private"``, ...), or None when it may."""
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped
        if mapped is not None:
            inner = is_forbidden_ip(mapped)
            return f"IPv4-mapped {inner}" if inner else "IPv4-mapped IPv6"
        if ip in _SIXTOFOUR and ip.sixtofour is not None:
            inner = is_forbidden_ip(ip.sixtofour)
            if inner:
                return f"6to4-embedded {inner}"
        table = _V6_FORBIDDEN
    else:
        table = _V4_FORBIDDEN
    for network, reason in table:
        if ip in network:
            return reason
    if isinstance(ip, ipaddress.IPv6Address) and ip not in _V6_GLOBAL_UNICAST:
        return "reserved"  # e.g. IPv4-compatible ::a.b.c.d; only 2000::/3 is global unicast
    # Whatever IANA lists as not globally reachable and the tables above do not name.
    if not ip.is_global:
        return "reserved"
    return None


def _parse_inet_aton(host: str) -> ipaddress.IPv4Address | None:
    """``inet_aton``-style IPv4 (1 to 4 parts, each decimal, 0x-hex or 0-octal), else None.

    Raises ForbiddenTarget for a host that is numeric in form but out of range, since
    resolvers disagree on what such a host means.
    """
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(_NUMERIC_PART.match(part) for part in parts):
        return None
    values = []
    for part in parts:
        if part.lower().startswith("0x"):
            values.append(int(part[2:] or "0", 16))
        elif len(part) > 1 and part.startswith("0"):
            if not set(part) <= set("01234567"):
                raise ForbiddenTarget(f"webhook url host {host!r} is not a valid IPv4 address (bad octal)")
            values.append(int(part, 8))
        else:
            values.append(int(part))
    *head, last = values
    if any(value > 255 for value in head) or last >= 256 ** (5 - len(values)):
        raise ForbiddenTarget(f"webhook url host {host!r} is not a valid IPv4 address (part out of range)")
    number = last
    for index, value in enumerate(head):
        number |= value << (8 * (3 - index))
    return ipaddress.IPv4Address(number)


def literal_ip(host: str) -> IPAddress | None:
    """The address a host names literally (any IPv6 or IPv4 form), or None for a DNS name."""
    bare = host[:-1] if host.endswith(".") else host
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    return _parse_inet_aton(bare)


def split_target(url: str) -> tuple[str, int]:
    """The host and port of a webhook URL, after the checks that need no DNS."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ForbiddenTarget(f"webhook url {url!r} is not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ForbiddenTarget(f"webhook url {url!r} must use http or https")
    if not parts.hostname:
        raise ForbiddenTarget(f"webhook url {url!r} has no host")
    if parts.username is not None or parts.password is not None:
        raise ForbiddenTarget(f"webhook url {url!r} must not carry credentials (user:password@)")
    return parts.hostname, port or (443 if scheme == "https" else 80)


def system_resolve(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for ``host`` (TCP)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _an(reason: str) -> str:
    return "an" if reason[0].lower() in "aeiou" else "a"


def check_address(host: str, address: str, verb: str = "resolves to") -> None:
    """Raise ForbiddenTarget when ``address`` (what ``host`` resolved or connected to) is forbidden."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise ForbiddenTarget(f"webhook url host {host!r} {verb} {address!r}, not an IP address") from None
    reason = is_forbidden_ip(ip)
    if reason:
        raise ForbiddenTarget(f"webhook url host {host!r} {verb} {ip}, {_an(reason)} {reason} address")


def check_literal(host: str) -> None:
    """Refuse a host that is a forbidden address literally, or ``localhost``; no DNS."""
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        raise ForbiddenTarget(f"webhook url host {host!r} is a loopback name")
    ip = literal_ip(host)
    if ip is None:
        return
    reason = is_forbidden_ip(ip)
    if reason:
        shown = "" if str(ip) == host.lower() else f" ({ip})"
        raise ForbiddenTarget(f"webhook url host {host!r}{shown} is {_an(reason)} {reason} address")


def check_static(url: str, *, allow_private: bool = False) -> tuple[str, int]:
    """The checks that need no DNS: http(s), a host, no credentials, no forbidden literal address.

    Returns the host and port. The addresses a name resolves to are checked by the connection
    itself (``worker.net.guard``), once per connection, on the answer it then connects to.
    """
    host, port = split_target(url)
    if not allow_private:
        check_literal(host)
    return host, port


def check_url(url: str, *, allow_private: bool = False, resolve: Resolver | None = None) -> None:
    """Raise ForbiddenTarget unless ``url`` is an http(s) URL whose every address may be called.

    With ``allow_private`` (development and tests only) any http(s) URL with a host passes
    and nothing is resolved.
    """
    host, port = split_target(url)
    if allow_private:
        return
    check_literal(host)
    if literal_ip(host) is not None:
        return
    try:
        addresses = (resolve or system_resolve)(host, port)
    except (OSError, UnicodeError, KeyError) as exc:
        raise ForbiddenTarget(f"webhook url host {host!r} does not resolve: {exc}") from None
    if not addresses:
        raise ForbiddenTarget(f"webhook url host {host!r} resolves to no address")
    for address in addresses:
        check_address(host, address)
