"""Guarded connections: resolve once, check, connect to the checked address, check the peer.

Every outgoing connection of the project (webhooks, upstream feeds and pages, WebSub hubs) is
made by the urllib3 connection classes below, mounted on sessions from ``make_session``:

1. the host name is resolved ONCE per connection (bounded by the current deadline);
2. unless private targets are allowed, every address of that answer must be allowed
   (``ssrf.check_address``): a forbidden one refuses the connection before any packet is sent;
3. the socket connects to one of those checked addresses (never to a second lookup's answer);
   the Host header, TLS SNI and certificate verification still use the URL's host name
   (urllib3 takes them from ``conn.host``; only the TCP connect goes to the address);
4. the second line: the address actually connected to (``getpeername``) is checked again, and
   the socket is closed before the first byte (of TLS or HTTP) when it is forbidden.

Each socket is put under the current deadline (``worker.net.deadline``). Sessions ignore proxy
settings from the environment (``trust_env = False``): behind a proxy the peer would be the
proxy and the guard would check the wrong address.
"""

from __future__ import annotations

import contextlib
import contextvars
import socket
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.timeout import _DEFAULT_TIMEOUT

from worker.net import ssrf
from worker.net.deadline import CURRENT, remaining, watch

RESOLVE_SECONDS = 10.0  # a lookup with no deadline in force


@dataclass(frozen=True)
class Policy:
    """What the connections made in this context may call, and how names are resolved."""

    allow_private: bool = False
    resolve: ssrf.Resolver = ssrf.system_resolve


DEFAULT_POLICY = Policy()
_POLICY: contextvars.ContextVar[Policy | None] = contextvars.ContextVar("outgoing_policy", default=None)


def policy() -> Policy:
    """The policy in force here (private targets refused, system DNS, unless ``targets`` says)."""
    return _POLICY.get() or DEFAULT_POLICY


@contextlib.contextmanager
def targets(allow_private: bool, resolve: ssrf.Resolver | None = None) -> Iterator[Policy]:
    """Within this block, guarded connections allow private peers iff ``allow_private``."""
    current = Policy(allow_private, resolve or policy().resolve)
    token = _POLICY.set(current)
    try:
        yield current
    finally:
        _POLICY.reset(token)


def _resolve(resolve: ssrf.Resolver, host: str, port: int) -> list[str]:
    """``resolve(host, port)``, given up on (``socket.timeout``) when the deadline passes first."""
    if ssrf.literal_ip(host) is not None:
        return [str(ssrf.literal_ip(host))]
    out: list[list[str] | BaseException] = []

    def run() -> None:
        try:
            out.append(resolve(host, port))
        except BaseException as exc:  # handed to the caller's thread
            out.append(exc)

    thread = threading.Thread(target=run, name="outgoing-resolve", daemon=True)
    thread.start()
    thread.join(remaining(RESOLVE_SECONDS))
    if not out:
        raise TimeoutError(f"looking up {host!r} took longer than the deadline")
    if isinstance(out[0], BaseException):
        raise out[0]
    return out[0]


def checked_addresses(host: str, port: int, rules: Policy) -> list[str]:
    """The addresses to connect to: one lookup, every answer checked unless private is allowed."""
    if not rules.allow_private:
        ssrf.check_literal(host)
    try:
        addresses = _resolve(rules.resolve, host, port)
    except (UnicodeError, KeyError) as exc:
        raise socket.gaierror(f"{host!r} does not resolve: {exc}") from None
    if not addresses:
        raise socket.gaierror(f"{host!r} resolves to no address")
    if not rules.allow_private:
        for address in addresses:
            ssrf.check_address(host, address)
    return addresses


def _until_deadline() -> float | None:
    return None if CURRENT.get() is None else remaining(float("inf"))


def open_socket(
    host: str,
    port: int,
    timeout: Any,
    source_address: tuple[str, int] | None = None,
    socket_options: Any = None,
) -> socket.socket:
    """A TCP socket to a checked address of ``host`` (see the module's steps 1 to 4)."""
    rules = policy()
    addresses = checked_addresses(host, port, rules)
    error: OSError | None = None
    for address in addresses:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            for option in socket_options or ():
                sock.setsockopt(*option)
            per_step = socket.getdefaulttimeout() if timeout is _DEFAULT_TIMEOUT else timeout
            # the connect ends by the deadline at the latest, then each read gets ``per_step``
            sock.settimeout(remaining(per_step) if per_step is not None else _until_deadline())
            if source_address:
                sock.bind(source_address)
            sock.connect((address, port))
            if not rules.allow_private:
                ssrf.check_address(host, str(sock.getpeername()[0]), verb="connected to")
            sock.settimeout(per_step)
            return sock
        except ssrf.ForbiddenTarget:
            sock.close()
            raise
        except OSError as exc:
            sock.close()
            error = exc
    assert error is not None
    raise error


class _PeerGuard:
    """Mixin for urllib3 connections: the TCP socket comes from ``open_socket``."""

    host: str
    port: int
    timeout: Any
    source_address: Any
    socket_options: Any

    def _new_conn(self) -> socket.socket:
        try:
            sock = open_socket(
                self._dns_host,  # type: ignore[attr-defined]  # the host without IPv6 brackets
                self.port,
                self.timeout,
                self.source_address,
                self.socket_options,
            )
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc  # type: ignore[arg-type]
        except TimeoutError as exc:
            message = f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
            raise ConnectTimeoutError(self, message) from exc
        except OSError as exc:
            raise NewConnectionError(self, f"Failed to establish a new connection: {exc}") from exc  # type: ignore[arg-type]
        sys.audit("http.client.connect", self, self.host, self.port)
        watch(sock)  # the TCP socket, for the TLS handshake
        return sock

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        watch(self.sock)  # type: ignore[attr-defined]  # the TLS socket (TLS detaches the TCP one)


class GuardedHTTPConnection(_PeerGuard, HTTPConnection):
    pass


class GuardedHTTPSConnection(_PeerGuard, HTTPSConnection):
    pass


class _WatchedPool(HTTPConnectionPool):
    """Puts the socket of a reused connection under the current deadline, and takes it off
    before the connection goes back (a connection whose deadline expired is closed instead)."""

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)
        watch(conn.sock)
        return conn

    def _put_conn(self, conn: Any) -> None:
        deadline = CURRENT.get()
        if deadline is not None and conn is not None and not deadline.release(conn.sock):
            conn.close()
        super()._put_conn(conn)


class _GuardedHTTPPool(_WatchedPool):
    ConnectionCls = GuardedHTTPConnection


class _GuardedHTTPSPool(_WatchedPool, HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """An HTTPAdapter whose every new connection is guarded (see the module); no proxies."""

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **kwargs: Any) -> None:
        super().init_poolmanager(connections, maxsize, block=block, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        raise ssrf.ForbiddenTarget(f"outgoing requests do not go through proxies (got {proxy!r})")


def make_session(pool_maxsize: int = 32) -> requests.Session:
    """A pooled session whose every connection is guarded; no proxies from the environment."""
    session = requests.Session()
    session.trust_env = False
    adapter = GuardedAdapter(pool_connections=pool_maxsize, pool_maxsize=pool_maxsize, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
