"""Every Redis key the project writes, named once. All start with ``PREFIX``.

Articles and feeds
  ``staged(id)``         string: the normalized article waiting for its ingest
  ``article(id)``        hash: the committed version (json, version, status, audiences), or a
                         retired article's tombstone (retired, retired_version, content_hash)
  ``REJECTED``           hash: article id -> why its staged input was refused
  ``index(suffix)``      sorted set: a feed's article ids by date (suffix ``AUDIENCE:SECTION``)
  ``archive(suffix)``    sorted set: a feed's article ids by arrival number (RFC 5005 pages)
  ``ARCHIVE_SEQ``        hash: suffix -> the last arrival number given
  ``ARCHIVE_RETIRED``    hash: suffix -> the last archive page retired (``SYNDICATE_RETENTION_DAYS``)
  ``SECTIONS``           hash: section slug -> its name
  ``kill(id)``, ``EMBARGOED``: the life cycle (``due("life")`` holds its next instants)
  ``DIRTY``              hash: feed -> marks not yet rendered
  ``feed(name, fmt)``    hash: rendered bytes, their gzip, sha256, Last-Modified (``FEED_PREFIX``)
  ``RENDER_*``           a render's cost, the render running, the next try, failures in a row
Webhooks
  ``SUBSCRIPTIONS``, ``audience_subscriptions(audience)``, ``subscription(id)``,
  ``SUBS_DISABLED``, ``SUBS_DISABLED_BUILT``, ``SUBS_VERSION``
  ``delivery(id)``       hash: one delivery's record; ``payload(key)``: its event body
  ``DELIVERY_LOG``, ``delivery_log(subscription)``: sorted sets of deliveries, newest last
  ``in_flight(subscription)``, ``rate(subscription)``: admission of attempts
Work and coordination
  ``due(kind)``          sorted set: member -> the time it must be looked at (``ingest``, ``deliver``)
  ``lock(name)``, ``heartbeat(node)``, ``marker(name)``, ``flag(name)``
  ``DEAD_LETTERS``, ``STATS``
Upstream sources
  ``source(id)``, ``source_items(id)``, ``poll_queued(id)``
"""

from __future__ import annotations

PREFIX = "syn:"


def key(*parts: str) -> str:
    return PREFIX + ":".join(parts)


# -- articles and feeds --------------------------------------------------------------------------
REJECTED = key("rejected")
ARCHIVE_SEQ = key("archseq")
ARCHIVE_RETIRED = key("archretired")
SECTIONS = key("sections")
DIRTY = key("dirty")
FEED_PREFIX = key("feed", "")
RENDER_COST = key("render", "cost")
RENDER_RUNNING = key("render", "running")
RENDER_RETRY = key("render", "retry")
RENDER_FAILURES = key("render", "failures")
EMBARGOED = key("embargoed")  # sorted set: article id -> when its embargo lifts


def staged(article_id: str) -> str:
    return key("staged", article_id)


def article(article_id: str) -> str:
    return key("art", article_id)


def kill(article_id: str) -> str:
    """string: an operator's kill of the article (the reason); survives re-ingests."""
    return key("kill", article_id)


def index(suffix: str) -> str:
    return key("idx", suffix)


def archive(suffix: str) -> str:
    return key("arch", suffix)


def feed(name: str, fmt: str) -> str:
    return key("feed", name, fmt)


# -- webhooks ------------------------------------------------------------------------------------
SUBSCRIPTIONS = key("subs")
SUBS_DISABLED = key("subs-disabled")
SUBS_DISABLED_BUILT = key("subs-disabled-built")
SUBS_VERSION = key("subs-version")
DELIVERY_LOG = key("dlv-log")


def audience_subscriptions(audience: str) -> str:
    return key("subs", audience)


def subscription(subscription_id: str) -> str:
    return key("sub", subscription_id)


def delivery(delivery_id: str) -> str:
    return key("dlv", delivery_id)


def delivery_log(subscription_id: str) -> str:
    return key("dlv-log", subscription_id)


def payload(payload_key: str) -> str:
    return key("payload", payload_key)


def in_flight(subscription_id: str) -> str:
    return key("inflight", subscription_id)


def rate(subscription_id: str) -> str:
    return key("rate", subscription_id)


# -- work and coordination -----------------------------------------------------------------------
DEAD_LETTERS = key("dead")
STATS = key("stats")


def due(kind: str) -> str:
    return key("due", kind)


def lock(name: str) -> str:
    return key("lock", name)


def heartbeat(node: str) -> str:
    return key("hb", node)


def marker(name: str) -> str:
    return key("marker", name)


def flag(name: str) -> str:
    return key("flag", name)


# -- upstream sources ----------------------------------------------------------------------------
def source(source_id: str) -> str:
    return key("source", source_id)


def source_items(source_id: str) -> str:
    return key("source-items", source_id)


def poll_queued(source_id: str) -> str:
    return key("poll-queued", source_id)
