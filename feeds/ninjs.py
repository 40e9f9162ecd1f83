"""An article as one audience sees it, as an IPTC ninjs 3.1 document: pure, a dict out.

The document validates against IPTC's schema (``ninjs-schema_3.1.json``): only its properties,
dates as RFC 3339, URIs absolute. The audience's notices stand in the one HTML body, each once
(``content.item_html``, as in every feed); there is no plain-text body for a notice to be missing
from. A withdrawn article is a short ``pubStatus: "canceled"`` document with its identity only.
"""

from __future__ import annotations

import hashlib
from typing import Any

from feeds.content import item_html, item_id, item_summary, item_url, unique_notices, xml_safe
from worker.models import AudienceArticle, EventType, LeadImage, iso_utc

NINJS_VERSION = "3.1"
SCHEMA_URI = "http://www.iptc.org/std/ninjs/ninjs-schema_3.1.json#"
STANDARD = {"name": "ninjs", "version": NINJS_VERSION, "schema": SCHEMA_URI}
# Cut first when an event is over the payload cap (``worker.event_cut``); never cut: these.
CUT_ORDER: tuple[str, ...] = ("bodies", "descriptions", "subjects", "associations", "by")
KEPT: tuple[str, ...] = ("uri", "type", "pubStatus", "standard", "headlines")


def ninjs_document(event: EventType, view: AudienceArticle) -> dict[str, Any]:
    """The ninjs 3.1 document of ``view`` for one event: ``usable``, or ``canceled`` when withdrawn."""
    a = view.article
    doc: dict[str, Any] = {
        "uri": item_id(view),
        "standard": dict(STANDARD),
        "type": "text",
        "representationType": "partial" if event == "article.withdrawn" else "full",
        "pubStatus": "canceled" if event == "article.withdrawn" else "usable",
        "headlines": [{"role": "main", "contentType": "text/plain", "value": xml_safe(a.title)}],
        "altIds": [{"role": "article-id", "value": a.id}],
        "infoSources": [{"name": a.source, "role": "publisher"}],
    }
    url = item_url(a)
    if url:
        doc["altIds"].append({"role": "url", "value": url})
    for name, value in (
        ("firstCreated", a.published_at),
        ("versionCreated", a.updated_at or a.published_at),
        ("embargoedUntil", a.embargoed_until),
        ("expires", a.expires_at),
    ):
        if value is not None:
            doc[name] = iso_utc(value)
    if event == "article.withdrawn":
        return doc
    doc["language"] = a.language
    if a.authors:
        doc["by"] = ", ".join(xml_safe(name) for name in a.authors)
    summary = item_summary(a)
    if summary:
        doc["descriptions"] = [{"role": "summary", "contentType": "text/plain", "value": summary}]
    doc["bodies"] = [{"role": "main", "contentType": "text/html", "value": item_html(view)}]
    subjects = [{"name": xml_safe(t)} for t in a.tags if xml_safe(t).strip()]
    if a.section:
        subjects.insert(0, {"name": xml_safe(a.section), "rel": "section"})
    if subjects:
        doc["subjects"] = subjects
    if a.image is not None:
        doc["associations"] = [picture(a.image)]
    return doc


def notices_only_bodies(view: AudienceArticle) -> list[dict[str, str]]:
    """What stands for ``bodies`` once the payload cap has cut them: the notices alone, so that a
    cut event still carries them (empty when the audience has none)."""
    notices = unique_notices(view)
    if not notices:
        return []
    bare = view.model_copy(update={"article": view.article.model_copy(update={"body_html": ""})})
    return [{"role": "main", "contentType": "text/html", "value": item_html(bare)}]


def picture(image: LeadImage) -> dict[str, Any]:
    """The lead image as a ``picture`` association with one rendition."""
    rendition: dict[str, Any] = {"name": "original", "href": image.url}
    if image.type:
        rendition["contentType"] = image.type
    if image.width:
        rendition["width"] = image.width
    if image.height:
        rendition["height"] = image.height
    digest = hashlib.sha256(image.url.encode()).hexdigest()[:24]
    assoc: dict[str, Any] = {
        "name": "mainpicture",
        "rel": "leadimage",
        "uri": f"urn:syndicate:picture:{digest}",
        "type": "picture",
        "renditions": [rendition],
    }
    if image.alt:
        assoc["headlines"] = [{"role": "main", "value": xml_safe(image.alt)}]
    if image.caption:
        assoc["descriptions"] = [{"role": "caption", "value": xml_safe(image.caption)}]
    if image.credit:
        assoc["by"] = xml_safe(image.credit)
    return assoc
