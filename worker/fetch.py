"""Fetching upstream documents politely and safely: the poller's HTTP client.

Redirects are followed by hand, only to http(s) and never to private addresses (the webhook SSRF
rules, checked again at connect time); connect/read timeouts, a deadline for the whole response,
and a size cap checked before and while reading.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests

from worker.webhooks.http import describe_error, make_session, private_targets
from worker.webhooks.ssrf import ForbiddenTarget, check_url

MAX_BYTES = 10 * 1024 * 1024
TIMEOUT = (5.0, 20.0)  # connect, read (each socket read)
MAX_SECONDS = 60.0  # a whole response, against a server that drips
MAX_REDIRECTS = 5
USER_AGENT = "syndicate-poller/1 (+https://github.com/rferl/syndicate)"
_CHARSET = re.compile(r"charset=[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)
_META_CHARSET = re.compile(rb"<meta[^>]+charset=[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)


class FetchError(Exception):
    """A fetch that failed; the message says how."""


@dataclass(frozen=True)
class Fetched:
    status: int
    headers: requests.structures.CaseInsensitiveDict[str]
    body: bytes
    url: str

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"http": 80, "https": 443}.get(scheme)
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port


def fetch(url: str, headers: dict[str, str], *, allow_private: bool, trusted: str | None = None) -> Fetched:
    """GET ``url``, following at most ``MAX_REDIRECTS`` redirects by hand, reading at most ``MAX_BYTES``.

    Every hop passes the webhook SSRF rules (http(s) only; no private, loopback, link-local or
    reserved address, checked before connecting and again on the connected peer) unless
    ``allow_private``, or unless it stays on the origin of ``trusted``: the feed URL an operator
    wrote in ``sources.yaml`` may be an internal host, but where it redirects and what its items
    link to are chosen upstream.
    """
    trusted_origin = _origin(trusted) if trusted else None
    with make_session(pool_maxsize=2) as session:
        for _ in range(MAX_REDIRECTS + 1):
            allow = allow_private or _origin(url) == trusted_origin
            try:
                check_url(url, allow_private=allow)
            except ForbiddenTarget as exc:
                raise FetchError(f"forbidden target {url}: {exc}") from None
            with private_targets(allow):
                try:
                    r = session.get(
                        url,
                        headers={"User-Agent": USER_AGENT, **headers},
                        timeout=TIMEOUT,
                        allow_redirects=False,
                        stream=True,
                    )
                    with r:
                        if r.is_redirect:
                            url = urljoin(url, r.headers["location"])
                            continue
                        return Fetched(r.status_code, r.headers, _read(r, url), url)
                except requests.RequestException as exc:
                    raise FetchError(f"{url}: {describe_error(exc, TIMEOUT[1])}") from None
    raise FetchError(f"more than {MAX_REDIRECTS} redirects")


def _read(r: requests.Response, url: str) -> bytes:
    declared = r.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BYTES:
        raise FetchError(f"{url}: response of {declared} bytes is over the {MAX_BYTES}-byte cap")
    deadline = time.monotonic() + MAX_SECONDS
    chunks, size = [], 0
    for chunk in r.iter_content(65536):
        size += len(chunk)
        if size > MAX_BYTES:
            raise FetchError(f"{url}: response over the {MAX_BYTES}-byte cap")
        if time.monotonic() > deadline:
            raise FetchError(f"{url}: response took longer than {MAX_SECONDS:.0f}s")
        chunks.append(chunk)
    return b"".join(chunks)


def decode_html(body: bytes, content_type: str) -> str:
    """A page as text: the charset of the header, else of ``<meta>``, else UTF-8."""
    if body.startswith(b"\xef\xbb\xbf"):
        return body[3:].decode("utf-8", errors="replace")
    found = _CHARSET.search(content_type)
    meta = _META_CHARSET.search(body[:4096])
    charset = found.group(1) if found else meta.group(1).decode() if meta else "utf-8"
    try:
        return body.decode(charset, errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")
