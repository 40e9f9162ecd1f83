"""IPTC ninjs (News in JSON), versions 1.x to 3.x: one news item to a draft article.

1.x and 2.x spell fields in lower case (``versioncreated``, ``pubstatus``, ``embargoed``; 1.x
also ``headline``, ``body_html``, ``body_text``, ``byline``, ``subject``, objects keyed by name
for ``associations`` and ``renditions``); 3.x in camelCase (``versionCreated``, ``pubStatus``,
``embargoedUntil``, ``headlines``/``bodies`` arrays, arrays of named associations). Superdesk's
ninjs (1.x with ``guid``, ``authors``, ``keywords``, ``genre``) reads the same way.

An HTML body goes through the same structure path as a CMS ``body_html`` (``prepare.prepare``
here, ``structure.finish`` in ``core``); a wrapped document (``<html><body><section>``) is
unwrapped first, so nothing of its ``<head>`` reaches the article.

Here the item as a whole: its headline, body and lead picture. How a field is read (either
spelling, the text arrays, dates and status) is in ``ninjs_fields``; its authors, sender, web page
and tags in ``ninjs_meta``.
"""

from __future__ import annotations

import html
import re
from typing import Any

import lxml.html
from lxml import etree

from worker.normalize.cms import text_paragraphs
from worker.normalize.draft import Draft
from worker.normalize.errors import NormalizeError
from worker.normalize.links import absolute_url
from worker.normalize.markup import parse_fragment
from worker.normalize.ninjs_fields import (
    Text,
    date,
    dates,
    field,
    objects,
    pick,
    plain_paragraphs,
    shown,
    status,
    string,
    texts,
)
from worker.normalize.ninjs_meta import authors, byline_names, source, tags, web_url
from worker.normalize.prepare import prepare

__all__ = ["byline_names", "field", "parse_ninjs", "unwrap"]

_PICTURES = frozenset({"picture", "graphic", "image"})
_WEB_IMAGES = ("image/jpeg", "image/jpg", "image/png", "image/gif", "image/webp", "image/avif")
_LEAD_NAMES = ("featuremedia", "featureimage", "mainpicture", "main", "lead", "leadimage", "picture")
_SUMMARY_ROLES = ("summary", "abstract", "teaser", "lead", "description", "intro", "")
_CAPTION_ROLES = ("caption", "summary", "description", "")
_WRAPPED = re.compile(r"<(?:html|body)\b", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)


def parse_ninjs(doc: dict[str, Any], caller_url: str | None = None) -> Draft:
    """The article of one ninjs item (already loaded); :class:`NormalizeError` names what is missing."""
    uri = field(doc, "uri") or doc.get("guid")
    if uri is None or not str(uri).strip():
        raise NormalizeError("ninjs: field 'uri' is missing (every ninjs item has one: its global id)")
    if not isinstance(uri, str | int):
        raise NormalizeError(f"ninjs: field 'uri' has {shown(uri)} (expected a string)")
    url = web_url(doc)
    base = absolute_url(url, None) if url else (absolute_url(caller_url, None) if caller_url else None)
    title = _headline(doc)
    draft = Draft(
        title=title,
        guid=str(uri).strip(),
        url=url,
        source=source(doc, str(uri)),
        language=string(doc, "language"),
        authors=authors(doc),
        tags=tags(doc),
        image=_lead_image(doc, base),
        embargoed_until=date(doc, "embargoedUntil") or date(doc, "embargoed"),
        expires_at=date(doc, "expires"),
        pub_status=status(doc),
    )
    draft.published_at, draft.updated_at = dates(doc)
    body = _body(doc)
    descriptions = texts(doc, "descriptions", ("description_html", "description_text", "summary"))
    if body is None:  # an item with only descriptions: they are its text
        body = pick(descriptions, _SUMMARY_ROLES)
    else:
        summary = pick(descriptions, _SUMMARY_ROLES)
        draft.summary = " ".join(plain_paragraphs(summary)) or None if summary else None
    if body is None:
        raise NormalizeError(
            "ninjs: the item has no text (expected 'bodies', 'body_html', 'body_text' or 'descriptions')"
        )
    value, is_html = body[1], body[2]
    if is_html:
        tree = parse_fragment(unwrap(value))
        prepare(tree, base)
        draft.html = tree
    else:
        draft.paragraphs = text_paragraphs(value)
    return draft


def unwrap(markup: str) -> str:
    """The content of a wrapped document's ``<body>`` (``<html><head>..<body>...``), else ``markup``."""
    if not _WRAPPED.search(markup):
        return markup
    markup = _XML_DECLARATION.sub("", markup, count=1)  # lxml refuses str input that declares one
    try:
        root = lxml.html.document_fromstring(markup)
    except (etree.ParserError, ValueError):
        return markup
    body = root.find(".//body")
    if body is None:
        return markup
    inner = [body.text or ""] + [etree.tostring(c, encoding="unicode", method="html") for c in body]
    return "".join(inner)


def _body(doc: dict[str, Any]) -> Text | None:
    bodies = texts(doc, "bodies", ("body_html", "body_html5", "body_xhtml", "body_text"))
    return pick(bodies, ("main", "body", "html", "xhtml", "text", ""), markup_first=True)


def _headline(doc: dict[str, Any]) -> str:
    found = pick(texts(doc, "headlines", ("headline",)), ("main", "headline", "title", ""))
    if found is None:
        title = doc.get("title")
        if isinstance(title, str) and title.strip():
            return html.unescape(title)
        raise NormalizeError("ninjs: no headline (expected 'headlines' with role 'main', or 'headline')")
    return " ".join(plain_paragraphs(found))


def _lead_image(doc: dict[str, Any], base: str | None) -> dict[str, Any] | None:
    """The first picture association (a lead-looking name first) as the ``image`` field's object;
    for a picture item, its own renditions. A malformed association is passed over: the story
    stands without its picture."""
    raw = field(doc, "associations")
    named: list[tuple[str, dict[str, Any]]] = []
    if isinstance(raw, dict):
        named = [(str(k), v) for k, v in raw.items() if isinstance(v, dict)]
    elif isinstance(raw, list):
        named = [(str(v.get("name") or ""), v) for v in raw if isinstance(v, dict)]
    pictures = [a for n, a in sorted(named, key=_lead_first) if _is_picture(a)]
    if str(doc.get("type") or "").lower() in _PICTURES:
        pictures.append(doc)
    for assoc in pictures:
        try:
            image = _picture(assoc, base)
        except NormalizeError:
            continue
        if image is not None:
            return image
    return None


def _lead_first(named: tuple[str, dict[str, Any]]) -> int:
    return 0 if named[0].lower().replace("_", "") in _LEAD_NAMES else 1


def _picture(assoc: dict[str, Any], base: str | None) -> dict[str, Any] | None:
    rendition = _rendition(assoc, base)
    if rendition is None:
        return None
    captions = texts(assoc, "descriptions", ("description_text", "description_html"))
    caption = pick(captions, _CAPTION_ROLES)
    headline = pick(texts(assoc, "headlines", ("headline",)), ("main", ""))
    credit = field(assoc, "by") or assoc.get("byline") or field(assoc, "copyrightHolder")
    return {
        "url": rendition.get("href"),
        "alt": " ".join(plain_paragraphs(headline)) if headline else None,
        "caption": " ".join(plain_paragraphs(caption)) if caption else None,
        "credit": credit if isinstance(credit, str) else None,
        "width": rendition.get("width"),
        "height": rendition.get("height"),
        "type": field(rendition, "contentType") or rendition.get("mimetype"),
    }


def _is_picture(assoc: dict[str, Any]) -> bool:
    kind = str(assoc.get("type") or "").lower()
    return kind in _PICTURES or (not kind and _rendition(assoc, None) is not None)


def _rendition(assoc: dict[str, Any], base: str | None) -> dict[str, Any] | None:
    """The largest rendition with an http(s) ``href`` in a web image type (or none stated)."""
    renditions = objects(assoc.get("renditions"))
    usable = []
    for r in renditions:
        href = r.get("href")
        kind = str(field(r, "contentType") or r.get("mimetype") or "").lower()
        if isinstance(href, str) and absolute_url(href, base, "src") and (not kind or kind in _WEB_IMAGES):
            usable.append(r)

    def area(r: dict[str, Any]) -> int:
        w, h = r.get("width"), r.get("height")
        return w * h if isinstance(w, int) and isinstance(h, int) else 0

    return max(usable, key=area) if usable else None
