"""Webhook event bodies (CONTRACTS section 5): pure functions, bytes out.

The bytes built here are stored once per event and audience and sent as they are: the bytes
signed are the bytes sent, on every attempt and every replay.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from feeds.content import item_html
from worker.event_cut import fit_event
from worker.models import AudienceArticle, EventType, iso_utc


def event_id(article_id: str, version: int, event_type: EventType, audience: str) -> str:
    digest = hashlib.sha256(f"{article_id}:{version}:{event_type}:{audience}".encode()).hexdigest()
    return f"evt_{digest[:24]}"


def delivery_id(event: str, subscription_id: str) -> str:
    return "dlv_" + hashlib.sha256(f"{event}:{subscription_id}".encode()).hexdigest()[:24]


def event_body(
    event_type: EventType,
    view: AudienceArticle,
    at: datetime,
    *,
    payload_cap: int,
) -> bytes:
    """The JSON body of one event for one audience, never over ``payload_cap`` bytes."""
    if event_type == "article.withdrawn":
        a = view.article
        article: dict[str, object] = {
            "id": a.id,
            "source": a.source,
            "url": a.url,
            "title": a.title,
            "restricted_regions": a.restricted_regions,
            "notices": [],
        }
    else:
        article = view.article.to_public()
        article["body_html"] = item_html(view)
        article["notices"] = [
            {"id": n.id, "language": n.language, "text": n.text, "url": n.url} for n in view.notices
        ]

    def dump(doc: dict[str, object], cut: list[str]) -> bytes:
        return _dump(event_type, view.audience, doc, at, cut)

    # Too large for partners' endpoints: cut in the documented order (worker.event_cut).
    return fit_event(article, dump, payload_cap)


def _dump(event_type: str, audience: str, article: dict[str, object], at: datetime, cut: list[str]) -> bytes:
    data: dict[str, object] = {"audience": audience, "article": article}
    if cut:
        data["truncated"] = cut
    doc = {"type": event_type, "timestamp": iso_utc(at), "data": data}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
