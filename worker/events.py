"""Webhook event bodies (CONTRACTS section 5): pure functions, bytes out.

The bytes built here are stored once per event and audience and sent as they are: the bytes
signed are the bytes sent, on every attempt and every replay.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from feeds.content import item_html
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
    """The JSON body of one event for one audience, under ``payload_cap`` bytes where possible."""
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
    body = _dump(event_type, view.audience, article, at)
    if len(body) > payload_cap and "body_html" in article:
        # Too large for partners' endpoints: send the article without its HTML, with its link.
        article.pop("body_html")
        article["body_text"] = ""
        article["truncated"] = True
        body = _dump(event_type, view.audience, article, at)
    return body


def _dump(event_type: str, audience: str, article: dict[str, object], at: datetime) -> bytes:
    doc = {
        "type": event_type,
        "timestamp": iso_utc(at),
        "data": {"audience": audience, "article": article},
    }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
