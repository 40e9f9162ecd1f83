"""One outgoing HTTP request, guarded and bounded: the client of upstream fetches and WebSub pings.

``request`` sends through a session from ``worker.net.guard.make_session`` (every connection
resolved once, checked, connected to the checked address, its peer checked again), never
follows a redirect, reads at most ``max_bytes`` of the answer, and ends by its wall-clock
deadline (``worker.net.deadline``: the watchdog shuts the socket down), whatever the peer does.
Webhook attempts use the same guard and deadline through ``worker.webhooks.http.post``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from http.client import HTTPException
from typing import Any

import requests
from urllib3 import exceptions as u3

from worker.net import ssrf
from worker.net.deadline import bound, remaining
from worker.net.errors import OutgoingError, classify

__all__ = ["OutgoingError", "Reply", "request"]
from worker.net.guard import make_session, targets

TIMEOUT = (5.0, 20.0)  # connect, and each socket read


@dataclass(frozen=True)
class Reply:
    status: int
    headers: requests.structures.CaseInsensitiveDict[str]
    body: bytes
    url: str

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def status_code(self) -> int:  # the name requests uses
        return self.status

    @property
    def is_redirect(self) -> bool:
        return self.status in (301, 302, 303, 307, 308) and "location" in self.headers


def request(
    method: str,
    url: str,
    *,
    allow_private: bool,
    deadline: float,
    max_bytes: int,
    headers: Mapping[str, str] | None = None,
    data: Any = None,
    session: requests.Session | None = None,
    timeout: tuple[float, float] = TIMEOUT,
    truncate: bool = False,
) -> Reply:
    """Send one request; raise ``OutgoingError`` (with its ``kind``) for every failure.

    An answer over ``max_bytes`` is an error of kind ``too large``, or with ``truncate`` cut
    there (a hub's answer, say, is only looked at for its status). Redirects come back as
    replies (``is_redirect``); following them is the caller's choice, each hop a new request.
    Within an enclosing ``deadline.bound`` that ends sooner, that deadline holds.
    """
    try:
        ssrf.check_static(url, allow_private=allow_private)
    except ssrf.ForbiddenTarget as exc:
        raise OutgoingError(f"forbidden target {url}: {exc}", "forbidden target") from None
    own = session is None
    session = session or make_session(pool_maxsize=1)
    try:
        with bound(deadline) as watch, targets(allow_private):
            try:
                connect, read = (remaining(t) for t in timeout)
                r = session.request(
                    method,
                    url,
                    headers=dict(headers or {}),
                    data=data,
                    timeout=(connect, read),
                    allow_redirects=False,
                    stream=True,
                )
                with r:
                    body = _read(r, url, max_bytes, truncate)
            except OutgoingError:
                if watch.passed:
                    raise _late(url, deadline) from None
                raise
            except (requests.RequestException, u3.HTTPError, HTTPException, OSError, ValueError) as exc:
                # a broken or cut connection: the deadline's doing, if it passed
                if watch.passed:
                    raise _late(url, deadline) from None
                kind, message = classify(exc, timeout[1])
                raise OutgoingError(f"{url}: {message}", kind) from None
            if watch.expired:  # the shutdown may end a body without a length: that is no answer
                raise _late(url, deadline)
            return Reply(r.status_code, r.headers, body, url)
    finally:
        if own:
            session.close()


def _late(url: str, seconds: float) -> OutgoingError:
    return OutgoingError(f"{url}: no complete answer within the {seconds:g}s deadline", "deadline")


def _read(r: requests.Response, url: str, max_bytes: int, truncate: bool) -> bytes:
    declared = r.headers.get("content-length", "")
    if not truncate and declared.isdigit() and int(declared) > max_bytes:
        raise OutgoingError(
            f"{url}: response of {declared} bytes is over the {max_bytes}-byte cap", "too large"
        )
    chunks, size = [], 0
    for chunk in r.iter_content(16384):
        size += len(chunk)
        if size > max_bytes:
            if truncate:
                chunks.append(chunk[: len(chunk) - (size - max_bytes)])
                break
            raise OutgoingError(f"{url}: response over the {max_bytes}-byte cap", "too large")
        chunks.append(chunk)
    return b"".join(chunks)
