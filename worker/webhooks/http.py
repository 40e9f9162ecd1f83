"""One webhook delivery attempt over HTTP: send, classify, never raise.

The SSRF guard runs twice: ``post`` refuses a forbidden URL before anything is resolved,
and every new connection of a session made by ``make_session`` checks the peer address it
actually connected to (``sock.getpeername()``) and closes the socket before the first byte
(of TLS or HTTP) is sent when that address is forbidden. DNS may answer differently at
delivery time than at subscription time; the peer check is what holds.

Sessions ignore proxy settings from the environment (``trust_env = False``): behind a
proxy the peer would be the proxy and the guard would check the wrong address.
"""

from __future__ import annotations

import contextlib
import contextvars
import email.utils
import logging
import socket
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from worker.webhooks import ssrf

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 2048
_ALLOW_PRIVATE: contextvars.ContextVar[bool] = contextvars.ContextVar("webhook_allow_private", default=False)


@dataclass(frozen=True)
class AttemptResult:
    """What one attempt gave: ``ok`` only for a 2xx answer."""

    ok: bool
    status_code: int | None
    duration_ms: float
    response_body: str
    error: str | None
    retry_after: float | None
    gone: bool


class _PeerGuard:
    """Mixin for urllib3 connections: refuse a forbidden peer right after the TCP connect."""

    host: str

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        if _ALLOW_PRIVATE.get():
            return sock
        try:
            peer = str(sock.getpeername()[0])
            ssrf.check_address(self.host, peer, verb="connected to")
        except BaseException:
            sock.close()
            raise
        return sock


class GuardedHTTPConnection(_PeerGuard, HTTPConnection):
    pass


class GuardedHTTPSConnection(_PeerGuard, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """An HTTPAdapter whose every new connection passes the peer check; no proxies."""

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **kwargs: Any) -> None:
        super().init_poolmanager(connections, maxsize, block=block, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        raise ssrf.ForbiddenTarget(f"webhook deliveries do not go through proxies (got {proxy!r})")


def make_session(pool_maxsize: int = 32) -> requests.Session:
    """A pooled session for deliveries, with the connect-time SSRF guard mounted."""
    session = requests.Session()
    session.trust_env = False
    adapter = GuardedAdapter(pool_connections=pool_maxsize, pool_maxsize=pool_maxsize, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or HTTP-date); None if unusable."""
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return None
    return max(0.0, seconds)


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and what caused it (``__cause__``, ``__context__``, urllib3 ``reason``, args)."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo and len(seen) < 20:
        item = todo.pop(0)
        if any(item is other for other in seen):
            continue
        seen.append(item)
        nexts = [item.__cause__, item.__context__, getattr(item, "reason", None)]
        nexts += [arg for arg in item.args if isinstance(arg, BaseException)]
        todo += [n for n in nexts if isinstance(n, BaseException)]
    return seen


def _one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def describe_error(exc: BaseException, timeout: float) -> str:
    """A one-line description of why an attempt failed before an answer came."""
    chain = _chain(exc)
    for item in chain:
        if isinstance(item, ssrf.ForbiddenTarget):
            return f"forbidden target: {item}"
    if any(isinstance(item, requests.Timeout | TimeoutError | socket.timeout) for item in chain):
        return f"timeout after {float(timeout)}s"
    if any(isinstance(item, ConnectionRefusedError) for item in chain):
        return "connection refused"
    if any(isinstance(item, requests.exceptions.SSLError) for item in chain):
        return _one_line(f"tls error: {exc}")
    if any(isinstance(item, socket.gaierror) for item in chain):
        return "host does not resolve"
    if isinstance(exc, requests.ConnectionError):
        return _one_line(f"connection error: {chain[-1]}")
    return _one_line(f"{type(exc).__name__}: {exc}")


def _read_head(response: requests.Response) -> str:
    """The first 2 KB of the body; the connection goes back to the pool only if the body ended."""
    data = b""
    try:
        data = response.raw.read(MAX_BODY_BYTES, decode_content=True) or b""
    except Exception as exc:  # the answer already counts; a broken body only loses the excerpt
        log.debug("webhook response body unreadable: %s", exc)
    finally:
        if len(data) < MAX_BODY_BYTES and response.raw.isclosed():
            response.raw.release_conn()
        else:
            response.close()
    return data.decode("utf-8", errors="replace")


def _result(response: requests.Response, body: str, started: float) -> AttemptResult:
    status = response.status_code
    error: str | None = None
    if 300 <= status < 400:
        location = response.headers.get("location") or "(no Location)"
        error = f"redirect to {location} not followed"
    elif not 200 <= status < 300:
        error = f"http status {status}"
    retry_after = parse_retry_after(response.headers.get("retry-after")) if status in (429, 503) else None
    return AttemptResult(
        ok=200 <= status < 300,
        status_code=status,
        duration_ms=(time.perf_counter() - started) * 1000,
        response_body=body,
        error=error,
        retry_after=retry_after,
        gone=status == 410,
    )


def _failure(error: str, started: float) -> AttemptResult:
    duration = (time.perf_counter() - started) * 1000
    return AttemptResult(False, None, duration, "", error, None, False)


def post(
    session: requests.Session,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    timeout: float = 15.0,
    allow_private: bool = False,
) -> AttemptResult:
    """POST ``body`` to ``url`` once; every outcome, failures included, is an AttemptResult.

    Redirects are not followed, at most 2 KB of the answer is read, and with
    ``allow_private`` False a forbidden URL or connected peer is refused unsent.
    """
    started = time.perf_counter()
    token = _ALLOW_PRIVATE.set(allow_private)
    try:
        host, _port = ssrf.split_target(url)
        if not allow_private:
            ssrf.check_literal(host)
        response = session.post(
            url, data=body, headers=dict(headers), timeout=timeout, allow_redirects=False, stream=True
        )
        result = _result(response, _read_head(response), started)
    except Exception as exc:
        result = _failure(describe_error(exc, timeout), started)
    finally:
        _ALLOW_PRIVATE.reset(token)
    log.debug("webhook attempt to %s: status=%s error=%s", _safe(url), result.status_code, result.error)
    return result


def _safe(url: str) -> str:
    """The URL without query string, for logs (a query may carry a token)."""
    return url.split("?", 1)[0]


__all__ = ["AttemptResult", "GuardedAdapter", "make_session", "parse_retry_after", "post"]


@contextlib.contextmanager
def private_targets(allow: bool) -> Iterator[None]:
    """Within this block, sessions from ``make_session`` allow private peers iff ``allow``."""
    token = _ALLOW_PRIVATE.set(allow)
    try:
        yield
    finally:
        _ALLOW_PRIVATE.reset(token)
