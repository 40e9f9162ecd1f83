"""Polling upstream RSS/Atom sources politely; each new or changed item becomes an article.

1. A lock per source (one owner token per poll) keeps overlapping polls apart.
2. Conditional GET with the last response's validators (``304`` costs nothing further).
3. ``429``/``503`` honour ``Retry-After``; repeated failures back off per source, and every
   failure is recorded with its kind (``error_kind``: timeout, deadline, too large, forbidden
   target, http status, parse error, soft time limit, ...) in the source's state.
4. Fetches go through ``worker.fetch``: redirects by hand, only to http(s), every connection
   checked against the address it reaches (no private address unless allowed, the configured
   feed's host included), timeouts, a wall-clock deadline per fetch and a size cap. A whole
   poll has ``POLL_BUDGET`` seconds (under the task's soft time limit): item pages left over
   wait for the next poll.
5. Every entry goes through the same normalization as every other input (as CMS JSON, or the
   item's own page with ``full_page: true``); identical content is skipped before that, and
   ``pipeline.ingest`` decides between a new article, a new version and nothing.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import feedparser
from celery.exceptions import SoftTimeLimitExceeded

from worker import pipeline
from worker.config import Source
from worker.fetch import Fetched, FetchError, decode_html, fetch
from worker.models import RawInput
from worker.normalize import NormalizeError
from worker.normalize.language import normalize_tag
from worker.runtime import Nudger, Runtime
from worker.storage import StorageUnavailable
from worker.webhooks.http import parse_retry_after

log = logging.getLogger("syndicate.poller")
LOCK_TTL = 120.0
QUEUED_TTL = 300.0
MAX_BACKOFF = 6 * 3600
MAX_RETRY_AFTER = 24 * 3600
POLL_BUDGET = 80.0  # seconds for one whole poll: under Celery's soft time limit (100 s)
ACCEPT = "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, */*;q=0.5"
_TAG = re.compile(r"<[^>]+>")
_HTTP = re.compile(r"^https?://", re.IGNORECASE)


@dataclass
class Taken:
    """What one pass over a feed's entries did."""

    queued: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    retry: list[str] = field(default_factory=list)  # items to try again next poll (page fetch failed)
    lost_lock: bool = False
    out_of_time: bool = False


def _text(value: str, kind: str | None) -> str:
    """Plain text of a feedparser text construct (HTML ones lose their tags)."""
    if kind and "html" in kind:
        return html.unescape(_TAG.sub("", value))
    return value


def _escaped(value: str) -> str:
    """For CMS JSON fields that normalization unescapes once: keep a literal ``&lt;`` literal."""
    return html.escape(value, quote=False)


def entry_document(
    entry: feedparser.FeedParserDict, publisher: str, language: str | None = None
) -> dict[str, object]:
    """One feed entry (RSS 0.9x/1.0/2.0 or Atom) as a CMS JSON article."""
    contents = entry.get("content") or []
    body_html = next((c.get("value", "") for c in contents if "html" in (c.get("type") or "")), "")
    body_html = body_html or (contents[0].get("value", "") if contents else "")
    summary = entry.get("summary", "")
    title_kind = (entry.get("title_detail") or {}).get("type")
    # dict.get: feedparser's own get() maps a missing updated_parsed to published_parsed.
    published, updated = dict.get(entry, "published_parsed"), dict.get(entry, "updated_parsed")
    published, updated = (published, updated) if published else (updated, None)
    link = entry.get("link") or ""
    doc: dict[str, object] = {
        "guid": entry.get("id") or link,
        "source": publisher,
        # A guid without isPermaLink="false" is taken as the link even when it is no URL.
        "url": link if _HTTP.match(link) else None,
        "title": _escaped(_text(entry.get("title", ""), title_kind).strip()),
        "authors": [_escaped(a["name"]) for a in entry.get("authors", []) if a.get("name")],
        "summary": summary if summary != body_html else "",
        "body_html": body_html or summary,
        "tags": [_escaped(t["term"]) for t in entry.get("tags", []) if t.get("term")],
        "language": normalize_tag(language),
    }
    for name, value in (("published_at", published), ("updated_at", updated)):
        if value:
            doc[name] = datetime(*value[:6], tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {k: v for k, v in doc.items() if v not in (None, "", [])}


def poll_source(rt: Runtime, source_id: str, nudge: Nudger) -> str:
    """Poll one source now; returns a one-line outcome. Never raises for upstream trouble.

    The source's state (``syndicate sources``) says the same in ``status`` and ``error``.
    """
    src = rt.config.source(source_id)
    if src is None:
        return f"unknown source '{source_id}'"
    lock, owner = f"poll:{source_id}", rt.lock_owner()
    if not rt.store.acquire(lock, owner, ttl=LOCK_TTL):
        return "already being polled"
    try:
        return _poll(rt, src, nudge, lambda: rt.store.acquire(lock, owner, ttl=LOCK_TTL))
    except SoftTimeLimitExceeded:
        # Celery's soft time limit interrupted the poll: recorded and backed off like any failure,
        # before the lock goes, so the next tick of beat does not start the same poll at once.
        return _interrupted(rt, src, "the poll ran past the task's soft time limit", "soft time limit")
    except StorageUnavailable:
        raise  # Redis away is not the source's trouble, and nothing could be recorded
    except Exception as exc:  # anything else an upstream provoked: recorded, backed off, never a crash
        log.exception("source poll failed unexpectedly", extra={"source_id": source_id})
        return _interrupted(rt, src, f"unexpected {type(exc).__name__}: {str(exc)[:200]}", "unexpected")
    finally:
        rt.store.release(lock, owner)
        rt.store.poll_done(source_id)


def _interrupted(rt: Runtime, src: Source, error: str, kind: str) -> str:
    """A poll cut short by an exception: a failure like the others (recorded, backed off)."""
    failures = int(rt.store.source_state(src.id).get("failures") or 0)
    return _failed(rt, src, failures, error, {"last_poll": _iso(time.time())}, kind)


def _poll(rt: Runtime, src: Source, nudge: Nudger, renew: Any) -> str:
    store = rt.store
    ends = time.monotonic() + POLL_BUDGET
    state = store.source_state(src.id)
    headers = {"Accept": ACCEPT}
    if state.get("etag"):
        headers["If-None-Match"] = state["etag"]
    if state.get("last_modified"):
        headers["If-Modified-Since"] = state["last_modified"]
    now = time.time()
    failures = int(state.get("failures") or 0)
    update: dict[str, str | float | int] = {"last_poll": _iso(now)}
    allow = rt.settings.allow_private_targets
    try:
        r = fetch(src.url, headers, allow_private=allow, deadline=_fetch_deadline(rt, ends))
    except FetchError as exc:
        return _failed(rt, src, failures, str(exc), update, exc.kind)
    if r.status == 304:
        update.update(status="not modified", failures=0, error="", error_kind="", next_at=now + src.every)
        outcome = "not modified"
    elif r.status in (429, 503):
        asked = parse_retry_after(r.headers.get("retry-after"))
        wait = min(max(float(src.every), asked or 0.0), MAX_RETRY_AFTER)
        error = f"http status {r.status}, Retry-After: {r.headers.get('retry-after', '(none)')}"
        update.update(status="throttled", error=error, error_kind="throttled", next_at=now + wait)
        outcome = f"throttled ({r.status}), next poll in {wait:.0f}s"
    elif not 200 <= r.status < 300:
        return _failed(rt, src, failures, f"http status {r.status}", update, "http status")
    else:
        parsed = feedparser.parse(r.body, response_headers={"content-type": r.content_type})
        if not parsed.get("version") and not parsed.entries:
            why = parsed.get("bozo_exception")
            reason = "not an RSS or Atom feed" + (f" ({str(why)[:150]})" if why else "")
            return _failed(rt, src, failures, reason, update, "parse error")
        language = parsed.feed.get("language")
        taken = take_entries(rt, src, parsed.entries, nudge, renew, language, ends)
        if taken.retry or taken.lost_lock or taken.out_of_time:
            # The validators are not kept, so the next poll reads the whole feed again.
            error = "; ".join(taken.retry)[:300] or (
                f"poll time ({POLL_BUDGET:g}s) used up; the rest waits for the next poll"
                if taken.out_of_time
                else "poll lock lost; the rest waits for the next poll"
            )
            update.update(status="partial", error=error, error_kind="partial", etag="", last_modified="")
        else:
            store.keep_items(src.id, taken.keys)
            etag, modified = r.headers.get("etag", ""), r.headers.get("last-modified", "")
            update.update(status="ok", error="", error_kind="", etag=etag, last_modified=modified)
        update.update(failures=0, next_at=now + src.every)
        outcome = f"{len(parsed.entries)} item(s), {len(taken.queued)} new or changed"
        if taken.retry:
            outcome += f", {len(taken.retry)} to retry"
    update["next_poll"] = _iso(float(update["next_at"]))
    store.save_source_state(src.id, update)
    return outcome


def take_entries(
    rt: Runtime,
    src: Source,
    entries: list[feedparser.FeedParserDict],
    nudge: Nudger,
    renew: Any = None,
    language: str | None = None,
    ends: float | None = None,
) -> Taken:
    """Stage every new or changed entry; a bad one is dead-lettered, the others go on.

    ``ends`` (monotonic time): when the poll's time is up, the entries left wait for the next poll.
    """
    taken = Taken()
    for entry in entries:
        doc = entry_document(entry, src.publisher, language)
        item_key = str(doc.get("guid") or doc.get("url") or doc.get("title"))
        taken.keys.append(item_key)
        digest = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()
        if rt.store.item_seen(src.id, item_key, digest):
            continue
        if renew is not None and not renew():
            taken.lost_lock = True
            break
        if ends is not None and time.monotonic() >= ends:
            taken.out_of_time = True
            break
        try:
            raw = _raw_input(rt, doc, src, ends)
            article = pipeline.accept(rt, raw)
        except FetchError as exc:
            taken.retry.append(f"item {item_key}: {exc}")
            continue
        except NormalizeError as exc:
            where = f"source {src.id}: item {item_key}"
            pipeline.reject(rt.store, "poll", exc, {"source": src.id, "item": item_key}, where)
            rt.store.remember_item(src.id, item_key, digest)
            continue
        rt.store.remember_item(src.id, item_key, digest)
        taken.queued.append(article.id)
    if taken.queued:
        nudge.ingest(taken.queued)
    return taken


def _fetch_deadline(rt: Runtime, ends: float | None) -> float:
    """The deadline of one fetch: the setting, or what is left of the poll's time if less."""
    left = float("inf") if ends is None else max(0.001, ends - time.monotonic())
    return min(rt.settings.fetch_deadline, left)


def _raw_input(rt: Runtime, doc: dict[str, object], src: Source, ends: float | None = None) -> RawInput:
    if not (src.full_page and doc.get("url")):
        return RawInput(format="json", body=json.dumps(doc))
    url = str(doc["url"])
    allow = rt.settings.allow_private_targets
    page: Fetched = fetch(
        url, {"Accept": "text/html"}, allow_private=allow, deadline=_fetch_deadline(rt, ends)
    )
    if not 200 <= page.status < 300:
        raise FetchError(f"item page {url} answered {page.status}")
    return RawInput(
        format="html",
        body=decode_html(page.body, page.content_type),
        source=src.publisher,
        url=url,
        guid=str(doc["guid"]) if doc.get("guid") else None,
        published_at=str(doc["published_at"]) if doc.get("published_at") else None,
        language=str(doc["language"]) if doc.get("language") else None,
    )


def _failed(
    rt: Runtime, src: Source, failures: int, error: str, update: dict[str, str | float | int], kind: str
) -> str:
    """Record a failed poll (``error_kind`` names how it failed) and back off: ``every`` doubled
    per failure in a row, at most ``MAX_BACKOFF``."""
    failures += 1
    wait = min(src.every * 2 ** min(failures - 1, 16), MAX_BACKOFF)
    now = time.time()
    update.update(
        status="error",
        failures=failures,
        error=error,
        error_kind=kind,
        next_at=now + wait,
        next_poll=_iso(now + wait),
    )
    rt.store.save_source_state(src.id, update)
    log.warning("source poll failed", extra={"source_id": src.id, "reason": error, "kind": kind})
    return f"error: {error}"


def poll_due(rt: Runtime, nudge: Nudger) -> int:
    """Beat's tick: queue a poll for every source whose next poll time has come.

    A source is queued once until its poll has run (or ``QUEUED_TTL`` passed, should the task
    be lost), so a slow queue never piles up polls of one source.
    """
    now = time.time()
    due = [
        s.id
        for s in rt.config.sources
        if float(rt.store.source_state(s.id).get("next_at") or 0) <= now
        and rt.store.claim_poll(s.id, QUEUED_TTL)
    ]
    if due:
        nudge.poll(due)
    return len(due)


def source_state(rt: Runtime, source_id: str) -> dict[str, str]:
    return rt.store.source_state(source_id)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
