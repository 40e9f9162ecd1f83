"""Publishers recognised by id, name, alias or web domain: ``RFE/RL``, ``rferl-news`` and an
article at ``www.svoboda.org`` all resolve to ``rferl``.

Pure functions over the ``Publisher`` models of ``config/publishers.yaml``; no I/O. A source no
publisher claims keeps its own id (as before there were publishers).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from worker.models import Publisher

_NOT_KEY = re.compile(r"[^a-z0-9]+")


@functools.lru_cache(maxsize=4096)  # a few ids, names and sources, asked for every article
def name_key(value: str) -> str:
    """The comparable form of a publisher id, name or alias (the same slug as an article's source):
    lower case, runs of other characters as ``-``. ``RFE/RL`` -> ``rfe-rl``."""
    return _NOT_KEY.sub("-", value.lower()).strip("-")


@functools.lru_cache(maxsize=4096)
def url_host(url: str | None) -> str:
    """The lower-case host of ``url`` without a trailing dot; empty when there is none."""
    if not url:
        return ""
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""
    return host.rstrip(".").lower()


def domain_matches(host: str, domain: str) -> bool:
    """``host`` is ``domain`` or one of its subdomains (``www.svoboda.org`` / ``svoboda.org``)."""
    return bool(host) and (host == domain or host.endswith("." + domain))


def by_name(publishers: Sequence[Publisher], value: str) -> Publisher | None:
    """The publisher whose id, display name or alias is ``value`` (compared as slugs)."""
    key = name_key(value)
    if not key:
        return None
    for publisher in publishers:
        if key in publisher_keys(publisher):
            return publisher
    return None


def by_url(publishers: Sequence[Publisher], url: str | None) -> Publisher | None:
    """The publisher one of whose web domains serves ``url`` (the longest domain wins)."""
    host = url_host(url)
    best: tuple[int, Publisher] | None = None
    for publisher in publishers:
        for domain in publisher.domains:
            if domain_matches(host, domain) and (best is None or len(domain) > best[0]):
                best = (len(domain), publisher)
    return best[1] if best else None


def publisher_keys(publisher: Publisher) -> set[str]:
    return {name_key(v) for v in (publisher.id, *publisher.names, *publisher.aliases)} - {""}


def resolve_publisher(publishers: Sequence[Publisher], source: str | None, url: str | None) -> str | None:
    """The publisher id of an article from ``source`` at ``url``: by id, name or alias of the source,
    else by the URL's domain; None when no publisher claims either."""
    found = by_name(publishers, source or "") or by_url(publishers, url)
    return found.id if found else None


def same_publisher(publishers: Sequence[Publisher], wanted: str, source: str, url: str | None) -> bool:
    """Whether an article from ``source`` at ``url`` is ``wanted``'s (an id, name or alias)."""
    if name_key(wanted) == name_key(source):
        return True
    target = by_name(publishers, wanted)
    if target is None:
        return False
    return resolve_publisher(publishers, source, url) == target.id
