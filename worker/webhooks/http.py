"""One webhook delivery attempt over HTTP: send, classify, never raise.

The SSRF guard is the one of every outgoing request (``worker.net.guard``): ``post`` refuses a
forbidden URL before anything is resolved, and every new connection of a session made by
``make_session`` resolves the host once, refuses a forbidden answer before any packet, connects
to the address it checked and checks the peer it actually connected to again. DNS may answer
differently at delivery time than at subscription time, or from one lookup to the next: the
connection uses only the answer it checked.

``post`` takes a connection from the urllib3 pool of the session's ``GuardedAdapter`` and does
the exchange on it itself (``worker.webhooks.exchange``): the requests layer, then urllib3's
``urlopen`` and http.client's parsing, cost most of an attempt's CPU and gave deliveries nothing.
Besides the connect and per-read timeouts, an attempt has
a total deadline: a watchdog thread shuts the attempt's socket down when it passes, so a
receiver that drips its answer a byte at a time cannot hold a delivery thread for long.
"""

from __future__ import annotations

import email.utils
import functools
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.client import HTTPException
from typing import Any

import requests
from requests.utils import DEFAULT_CA_BUNDLE_PATH
from urllib3 import exceptions as u3
from urllib3.util import parse_url

from worker.net import ssrf
from worker.net.deadline import CURRENT, WATCHDOG, Deadline
from worker.net.errors import describe_error
from worker.net.guard import GuardedAdapter, make_session, targets
from worker.webhooks.exchange import exchange, request_bytes

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 2048
DEADLINE_SLACK = 0.25  # past the total deadline, so a plain read timeout of the same length wins


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


def _as_requests_error(exc: Exception) -> Exception:
    """The requests exception the adapter would have made of a urllib3 one (for ``describe_error``)."""
    if isinstance(exc, u3.SSLError):
        return requests.exceptions.SSLError(exc)
    if isinstance(exc, u3.NewConnectionError):  # a ConnectTimeoutError subclass, but not a timeout
        return requests.ConnectionError(exc)
    if isinstance(exc, u3.ConnectTimeoutError):
        return requests.ConnectTimeout(exc)
    if isinstance(exc, u3.ReadTimeoutError):
        return requests.ReadTimeout(exc)
    if isinstance(exc, u3.LocationValueError):
        return requests.exceptions.InvalidURL(exc)
    if isinstance(exc, u3.HTTPError | OSError | HTTPException):  # HTTPException: a garbled answer
        return requests.ConnectionError(exc)
    return exc


def _tls_kwargs(scheme: str, verify: bool | str) -> dict[str, Any] | None:
    """Certificate checks as the adapter does them: on, against certifi's bundle, unless told."""
    if scheme != "https":
        return None
    if verify is False:
        return {"cert_reqs": "CERT_NONE"}
    bundle = DEFAULT_CA_BUNDLE_PATH if verify is True else verify
    key = "ca_cert_dir" if os.path.isdir(bundle) else "ca_certs"
    return {"cert_reqs": "CERT_REQUIRED", key: bundle}


@functools.lru_cache(maxsize=4096)
def _target(url: str) -> tuple[str, str | None, int | None, str, str]:
    """Scheme, host, port, request URI and Host header of ``url`` (parsed once per URL)."""
    target = parse_url(url)
    scheme = target.scheme or "http"
    default_port = 443 if scheme == "https" else 80
    host = target.host or ""
    header = host if target.port in (None, default_port) else f"{host}:{target.port}"
    return scheme, target.host, target.port, target.request_uri, header


def _pool(session: requests.Session, adapter: GuardedAdapter, url: str) -> tuple[Any, str, str]:
    """The connection pool for ``url`` (cached on the adapter while the pool is open), the request
    URI and the Host header."""
    scheme, host, port, uri, header = _target(url)
    cache: dict[tuple[object, ...], Any] = adapter.__dict__.setdefault("_webhook_pools", {})
    key = (scheme, host, port, str(session.verify))
    pool = cache.get(key)
    if pool is None or pool.pool is None:  # a pool the manager evicted is closed: look it up again
        pool = adapter.poolmanager.connection_from_host(
            host, port, scheme, pool_kwargs=_tls_kwargs(scheme, session.verify)
        )
        if len(cache) > 1024:
            cache.clear()
        cache[key] = pool
    return pool, uri, header


def _send(
    session: requests.Session, url: str, body: bytes, headers: Mapping[str, str], timeout: float
) -> tuple[int, dict[str, str], bytes]:
    """POST on a connection of the session's GuardedAdapter pool: no redirects, no retries."""
    url = url.strip()
    adapter = session.get_adapter(url)
    if not isinstance(adapter, GuardedAdapter):
        raise TypeError("webhook posts need a session from make_session (its GuardedAdapter)")
    pool, uri, host = _pool(session, adapter, url)
    request = request_bytes("POST", host, uri, dict(headers), body)
    conn = pool._get_conn()
    reusable = False
    try:
        conn.timeout = timeout  # the connect of a new connection, then each read
        answer, reusable = exchange(conn, request, MAX_BODY_BYTES, timeout)
    finally:
        if not reusable:
            conn.close()
        pool._put_conn(conn)  # the pool's _put_conn closes it if the deadline had passed
    return answer.status, answer.headers, answer.body


def _result(status: int, head: Mapping[str, str], body: bytes, started: float) -> AttemptResult:
    error: str | None = None
    if 300 <= status < 400:
        location = head.get("location") or "(no Location)"
        error = f"redirect to {location} not followed"
    elif not 200 <= status < 300:
        error = f"http status {status}"
    retry_after = parse_retry_after(head.get("retry-after")) if status in (429, 503) else None
    return AttemptResult(
        ok=200 <= status < 300,
        status_code=status,
        duration_ms=(time.perf_counter() - started) * 1000,
        response_body=body.decode("utf-8", errors="replace"),
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
    deadline: float | None = None,
    allow_private: bool = False,
) -> AttemptResult:
    """POST ``body`` to ``url`` once; every outcome, failures included, is an AttemptResult.

    Redirects are not followed, at most 2 KB of the answer is read, and with
    ``allow_private`` False a forbidden URL or connected peer is refused unsent. ``timeout``
    bounds the connect and each read; ``deadline`` (default: ``timeout``) the whole attempt.
    """
    started = time.perf_counter()
    total = float(timeout if deadline is None else deadline)
    attempt = Deadline(total + DEADLINE_SLACK)
    deadline_token = CURRENT.set(attempt)
    try:
        ssrf.check_static(url, allow_private=allow_private)
        WATCHDOG.add(attempt)
        with targets(allow_private):
            status, head, excerpt = _send(session, url, body, headers, timeout)
        result = _result(status, head, excerpt, started)
    except Exception as exc:
        attempt.stop()
        error = f"timeout after {total}s (total)" if attempt.passed else None
        result = _failure(error or describe_error(_as_requests_error(exc), timeout), started)
    finally:
        attempt.stop()
        CURRENT.reset(deadline_token)
    log.debug("webhook attempt to %s: status=%s error=%s", _safe(url), result.status_code, result.error)
    return result


def _safe(url: str) -> str:
    """The URL without query string, for logs (a query may carry a token)."""
    return url.split("?", 1)[0]


__all__ = ["AttemptResult", "GuardedAdapter", "describe_error", "make_session", "parse_retry_after", "post"]
