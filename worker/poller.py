"""Polling upstream RSS/Atom sources politely; each new or changed item becomes an article.

1. Conditional GET with the last response's validators (``304`` costs nothing further).
2. ``429``/``503`` honour ``Retry-After``; repeated failures back off per source.
3. Redirects are followed by hand, only to http(s) and never to private addresses (the webhook
   SSRF rules apply), with connect/read timeouts and a size cap.
4. Every entry goes through the same normalization as every other input (as CMS JSON, or the
   item's own page with ``full_page: true``); a lock per source keeps overlapping polls apart.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from datetime import UTC, datetime
from urllib.parse import urljoin

import feedparser
import requests

from worker import pipeline
from worker.models import RawInput
from worker.normalize import NormalizeError
from worker.runtime import Nudger, Runtime
from worker.webhooks.http import make_session, parse_retry_after, private_targets
from worker.webhooks.ssrf import ForbiddenTarget, check_url

log = logging.getLogger("syndicate.poller")
MAX_BYTES = 10 * 1024 * 1024
TIMEOUT = (5.0, 20.0)
MAX_REDIRECTS = 5
MAX_BACKOFF = 6 * 3600
USER_AGENT = "syndicate-poller/1 (+https://github.com/rferl/syndicate)"


class FetchError(Exception):
    """A fetch that failed; the message says how."""


def fetch(rt: Runtime, url: str, headers: dict[str, str]) -> requests.Response:
    """GET with guarded redirects and a size cap; the body is read into ``response._content``."""
    allow = rt.settings.webhook_allow_private
    session = make_session(pool_maxsize=4)
    with private_targets(allow):
        for _ in range(MAX_REDIRECTS + 1):
            try:
                check_url(url, allow_private=allow)
            except ForbiddenTarget as exc:
                raise FetchError(f"forbidden target: {exc}") from None
            try:
                r = session.get(url, headers=headers, timeout=TIMEOUT, allow_redirects=False, stream=True)
            except requests.RequestException as exc:
                raise FetchError(f"{type(exc).__name__}: {str(exc)[:200]}") from None
            if r.is_redirect and r.headers.get("location"):
                url = urljoin(url, r.headers["location"])
                r.close()
                continue
            chunks, size = [], 0
            for chunk in r.iter_content(65536):
                size += len(chunk)
                if size > MAX_BYTES:
                    r.close()
                    raise FetchError(f"response over {MAX_BYTES} bytes")
                chunks.append(chunk)
            r._content = b"".join(chunks)
            return r
    raise FetchError(f"more than {MAX_REDIRECTS} redirects")


def entry_document(entry: feedparser.FeedParserDict, publisher: str) -> dict[str, object]:
    """One feed entry as a CMS JSON article."""
    content = entry.get("content") or []
    body_html = content[0].get("value", "") if content else ""
    doc: dict[str, object] = {
        "guid": entry.get("id") or entry.get("link"),
        "source": publisher,
        "url": entry.get("link"),
        "title": entry.get("title"),
        "authors": [a.get("name") for a in entry.get("authors", []) if a.get("name")],
        "summary": entry.get("summary", ""),
        "body_html": body_html or entry.get("summary", ""),
        "tags": [t.get("term") for t in entry.get("tags", []) if t.get("term")],
    }
    for field, parsed in (("published_at", "published_parsed"), ("updated_at", "updated_parsed")):
        if entry.get(parsed):
            doc[field] = datetime(*entry[parsed][:6], tzinfo=UTC).isoformat()
    return {k: v for k, v in doc.items() if v not in (None, "", [])}


def poll_source(rt: Runtime, source_id: str, nudge: Nudger) -> str:
    """Poll one source now; returns a one-line outcome. Never raises for upstream trouble."""
    src = rt.config.source(source_id)
    if src is None:
        return f"unknown source '{source_id}'"
    store = rt.store
    if not store.acquire(f"poll:{source_id}", rt.node, ttl=120):
        return "already being polled"
    try:
        state = store.source_state(source_id)
        headers = {"User-Agent": USER_AGENT, "Accept": "application/rss+xml, application/atom+xml, */*"}
        if state.get("etag"):
            headers["If-None-Match"] = state["etag"]
        if state.get("last_modified"):
            headers["If-Modified-Since"] = state["last_modified"]
        now = time.time()
        failures = int(state.get("failures", "0"))
        update: dict[str, str | float | int] = {"last_poll": _iso(now)}
        try:
            r = fetch(rt, src.url, headers)
        except FetchError as exc:
            return _failed(rt, source_id, src.every, failures, str(exc), update)
        if r.status_code == 304:
            update.update(status="not modified", failures=0, error="", next_at=now + src.every)
            outcome = "not modified"
        elif r.status_code in (429, 503):
            wait = max(src.every, parse_retry_after(r.headers.get("retry-after")) or 0)
            update.update(status=f"throttled ({r.status_code})", next_at=now + wait, error="")
            outcome = f"throttled, next poll in {wait:.0f}s"
        elif not 200 <= r.status_code < 300:
            return _failed(rt, source_id, src.every, failures, f"http status {r.status_code}", update)
        else:
            parsed = feedparser.parse(r.content)
            if parsed.bozo and not parsed.entries:
                reason = f"not a readable feed: {str(parsed.get('bozo_exception', 'parse error'))[:150]}"
                return _failed(rt, source_id, src.every, failures, reason, update)
            queued = take_entries(rt, src.id, src.publisher, src.full_page, parsed.entries, nudge)
            update.update(
                status="ok",
                failures=0,
                error="",
                next_at=now + src.every,
                etag=r.headers.get("etag", ""),
                last_modified=r.headers.get("last-modified", ""),
            )
            outcome = f"{len(parsed.entries)} item(s), {queued} new or changed"
        update["next_poll"] = _iso(float(update["next_at"]))
        store.save_source_state(source_id, update)
        return outcome
    finally:
        store.release(f"poll:{source_id}", rt.node)


def take_entries(
    rt: Runtime,
    source_id: str,
    publisher: str,
    full_page: bool,
    entries: list[feedparser.FeedParserDict],
    nudge: Nudger,
) -> int:
    queued: list[str] = []
    for entry in entries:
        doc = entry_document(entry, publisher)
        item_key = str(doc.get("guid") or doc.get("url") or doc.get("title"))
        digest = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()
        if rt.store.item_seen(source_id, item_key, digest):
            continue
        try:
            raw = _raw_input(rt, doc, full_page)
            article = pipeline.accept(rt, raw)
        except (NormalizeError, FetchError) as exc:
            rt.store.add_dead_letter(f"{source_id}: {exc}", "poll", {"item": item_key})
            rt.store.remember_item(source_id, item_key, digest)
            continue
        rt.store.remember_item(source_id, item_key, digest)
        queued.append(article.id)
    if queued:
        nudge.ingest(queued)
    return len(queued)


def _raw_input(rt: Runtime, doc: dict[str, object], full_page: bool) -> RawInput:
    if full_page and doc.get("url"):
        page = fetch(rt, str(doc["url"]), {"User-Agent": USER_AGENT})
        if not 200 <= page.status_code < 300:
            raise FetchError(f"item page {doc['url']} answered {page.status_code}")
        return RawInput(
            format="html",
            body=page.content.decode(page.encoding or "utf-8", errors="replace"),
            source=str(doc["source"]),
            url=str(doc["url"]),
            guid=str(doc.get("guid")),
            published_at=str(doc.get("published_at")) if doc.get("published_at") else None,
        )
    return RawInput(format="json", body=json.dumps(doc))


def _failed(
    rt: Runtime, source_id: str, every: int, failures: int, error: str, update: dict[str, str | float | int]
) -> str:
    failures += 1
    wait = min(every * 2 ** (failures - 1), MAX_BACKOFF)
    now = time.time()
    update.update(
        status="error", failures=failures, error=error, next_at=now + wait, next_poll=_iso(now + wait)
    )
    rt.store.save_source_state(source_id, update)
    log.warning("source poll failed", extra={"source_id": source_id, "reason": error})
    return f"error: {error}"


def poll_due(rt: Runtime, nudge: Nudger) -> int:
    """Beat's tick: queue a poll for every source whose next poll time has come."""
    now = time.time()
    due = [
        s.id
        for s in rt.config.sources
        if float(rt.store.source_state(s.id).get("next_at", 0)) <= now
        and rt.store.claim_flag(f"poll-due:{s.id}", 30)
    ]
    if due:
        nudge.poll(due)
    return len(due)


def source_state(rt: Runtime, source_id: str) -> dict[str, str]:
    return rt.store.source_state(source_id)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
