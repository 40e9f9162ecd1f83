"""Webhook event bodies (CONTRACTS section 5): pure functions, bytes out.

The bytes built here are stored once per event, audience and form (``Subscription.format``) and
sent as they are: the bytes signed are the bytes sent, on every attempt and every replay. Every
form keeps the Standard Webhooks envelope (``type``, ``timestamp``, ``data.audience``); only
``data.article`` differs: the contract's JSON article, or a ninjs 3.1 document (``feeds.ninjs``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from feeds.content import item_html
from feeds.ninjs import CUT_ORDER as NINJS_CUT_ORDER
from feeds.ninjs import KEPT as NINJS_KEPT
from feeds.ninjs import ninjs_document, notices_only_bodies
from worker.event_cut import JSON_RULES, CutRules, fit_event
from worker.models import AudienceArticle, Delivery, EventType, PayloadFormat, Subscription, iso_utc
from worker.webhooks.signing import stable_message_id


def event_id(article_id: str, version: int, event_type: EventType, audience: str) -> str:
    digest = hashlib.sha256(f"{article_id}:{version}:{event_type}:{audience}".encode()).hexdigest()
    return f"evt_{digest[:24]}"


def delivery_id(event: str, subscription_id: str) -> str:
    return "dlv_" + hashlib.sha256(f"{event}:{subscription_id}".encode()).hexdigest()[:24]


def payload_key(event: str, form: PayloadFormat = "json") -> str:
    """Where the body of ``event`` in ``form`` is kept: the event id itself for the JSON form."""
    return event if form == "json" else f"{event}.{form}"


def fan_out(
    event_type: EventType,
    view: AudienceArticle,
    subscriptions: Sequence[Subscription],
    at: datetime,
    *,
    version: int,
    payload_cap: int,
) -> tuple[dict[str, bytes], list[Delivery]]:
    """The bodies (one per form asked) and the deliveries of one event to ``subscriptions``."""
    eid = event_id(view.article.id, version, event_type, view.audience)
    payloads: dict[str, bytes] = {}
    deliveries: list[Delivery] = []
    for sub in subscriptions:
        key = payload_key(eid, sub.format)
        if key not in payloads:
            payloads[key] = event_body(event_type, view, at, payload_cap=payload_cap, form=sub.format)
        deliveries.append(
            Delivery(
                id=delivery_id(eid, sub.id),
                event_id=eid,
                webhook_id=stable_message_id(eid, sub.id),
                subscription_id=sub.id,
                type=event_type,
                audience=view.audience,
                article_id=view.article.id,
                payload_key=key,
                created_at=at,
                updated_at=at,
                next_attempt_at=at,
            )
        )
    return payloads, deliveries


def event_body(
    event_type: EventType,
    view: AudienceArticle,
    at: datetime,
    *,
    payload_cap: int,
    form: PayloadFormat = "json",
) -> bytes:
    """The body of one event for one audience in ``form``, never over ``payload_cap`` bytes."""
    article, rules = _FORMS[form](event_type, view)

    def dump(doc: dict[str, object], cut: list[str]) -> bytes:
        return _dump(event_type, view.audience, doc, at, cut)

    # Too large for partners' endpoints: cut in the documented order (worker.event_cut).
    return fit_event(article, dump, payload_cap, rules=rules)


def _json_article(event_type: EventType, view: AudienceArticle) -> tuple[dict[str, Any], CutRules]:
    """The contract's JSON article (CONTRACTS section 5)."""
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
    return article, JSON_RULES


def _ninjs_article(event_type: EventType, view: AudienceArticle) -> tuple[dict[str, Any], CutRules]:
    """A ninjs 3.1 document; cut fields are left out, a cut body leaves the notices standing."""
    rules = CutRules(
        order=NINJS_CUT_ORDER,
        kept=NINJS_KEPT,
        shortened="",
        drop_all=True,
        mark=False,
        replacements={"bodies": notices_only_bodies(view)},
    )
    return ninjs_document(event_type, view), rules


# The one switch between the forms a subscription may ask for.
_FORMS: dict[str, Callable[[EventType, AudienceArticle], tuple[dict[str, Any], CutRules]]] = {
    "json": _json_article,
    "ninjs": _ninjs_article,
}


def _dump(event_type: str, audience: str, article: dict[str, object], at: datetime, cut: list[str]) -> bytes:
    data: dict[str, object] = {"audience": audience, "article": article}
    if cut:
        data["truncated"] = cut
    doc = {"type": event_type, "timestamp": iso_utc(at), "data": data}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
