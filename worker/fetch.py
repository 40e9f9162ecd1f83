"""Fetching upstream documents politely and safely: the poller's HTTP client.

Every request goes through ``worker.net.client`` (the guard and deadline of every outgoing
request): each connection of each hop is resolved once, checked (no private, loopback,
link-local or reserved address unless ``SYNDICATE_ALLOW_PRIVATE_TARGETS=1``, the configured
feed URL included), connected to the checked address and checked again on the connected peer.
Redirects are followed by hand, only to http(s); connect/read timeouts; one wall-clock deadline
for the whole fetch, redirects included, however slowly the server drips; a size cap checked
before and while reading.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

from worker.net.client import Reply, request
from worker.net.deadline import bound
from worker.net.errors import OutgoingError
from worker.net.guard import make_session

MAX_BYTES = 10 * 1024 * 1024
MAX_SECONDS = 60.0  # a whole fetch, redirects included, against a server that drips
MAX_REDIRECTS = 5
USER_AGENT = "syndicate-poller/1 (+https://github.com/rferl/syndicate)"
_CHARSET = re.compile(r"charset=[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)
_META_CHARSET = re.compile(rb"<meta[^>]+charset=[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)

FetchError = OutgoingError  # a fetch that failed; ``kind`` names how, the message says it all
Fetched = Reply


def fetch(
    url: str, headers: dict[str, str], *, allow_private: bool, deadline: float = MAX_SECONDS
) -> Fetched:
    """GET ``url``, following at most ``MAX_REDIRECTS`` redirects by hand, reading at most ``MAX_BYTES``.

    Every hop passes the SSRF rules of every outgoing request, with no exception for the
    configured feed's own host (``allow_private`` lifts them all: development and tests).
    The whole fetch ends within ``deadline`` seconds; failures raise ``FetchError``.
    """
    sent = {"User-Agent": USER_AGENT, **headers}
    with bound(deadline), make_session(pool_maxsize=2) as session:
        for _ in range(MAX_REDIRECTS + 1):
            reply = request(
                "GET",
                url,
                allow_private=allow_private,
                deadline=deadline,
                max_bytes=MAX_BYTES,
                headers=sent,
                session=session,
            )
            if not reply.is_redirect:
                return reply
            url = urljoin(url, reply.headers["location"])
    raise FetchError(f"more than {MAX_REDIRECTS} redirects", "redirects")


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
