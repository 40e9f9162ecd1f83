"""IPTC ninjs (News in JSON), versions 1.x to 3.x: one news item to a draft article.

1.x and 2.x spell fields in lower case (``versioncreated``, ``pubstatus``, ``embargoed``; 1.x
also ``headline``, ``body_html``, ``body_text``, ``byline``, ``subject``, objects keyed by name
for ``associations`` and ``renditions``); 3.x in camelCase (``versionCreated``, ``pubStatus``,
``embargoedUntil``, ``headlines``/``bodies`` arrays, arrays of named associations). Superdesk's
ninjs (1.x with ``guid``, ``authors``, ``keywords``, ``genre``) reads the same way.

An HTML body goes through the same structure path as a CMS ``body_html`` (``structure.prepare``
here, ``structure.finish`` in ``core``); a wrapped document (``<html><body><section>``) is
unwrapped first, so nothing of its ``<head>`` reaches the article.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

from worker.models import PubStatus
from worker.normalize.cms import text_paragraphs
from worker.normalize.dates import parse_date
from worker.normalize.draft import Draft
from worker.normalize.errors import NormalizeError
from worker.normalize.links import absolute_url
from worker.normalize.sniff import looks_like_html
from worker.normalize.structure import parse_fragment, prepare
from worker.normalize.text import split_authors

_HTML_TYPES = ("text/html", "application/xhtml+xml", "application/xhtml", "text/xhtml")
_PICTURES = frozenset({"picture", "graphic", "image"})
_WEB_IMAGES = ("image/jpeg", "image/jpg", "image/png", "image/gif", "image/webp", "image/avif")
_LEAD_NAMES = ("featuremedia", "featureimage", "mainpicture", "main", "lead", "leadimage", "picture")
_SUMMARY_ROLES = ("summary", "abstract", "teaser", "lead", "description", "intro", "")
_CAPTION_ROLES = ("caption", "summary", "description", "")
_BYLINE_PREFIX = re.compile(r"^\s*(?:von|by|par|av|af|por|door|от|автор)\s*[:\s]\s*", re.IGNORECASE)
_AND_WORDS = re.compile(r"\s+(?:und|og|och|et|en|и|/)\s+", re.IGNORECASE)
_WRAPPED = re.compile(r"<(?:html|body)\b", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_URL_ROLES = frozenset({"url", "web", "weburl", "canonical", "link", "permalink"})
_SOURCE_ROLES = frozenset({"publisher", "originator", "source", "provider", "distributor"})
_GENERIC_NIDS = frozenset({"uuid", "oid", "isbn", "issn", "ietf", "newsml", "publicid", "uri", "mrn"})
_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "gov", "ac", "or", "ne"})
_STATUSES: dict[str, PubStatus] = {
    "usable": "usable",
    "withheld": "withheld",
    "canceled": "canceled",
    "cancelled": "canceled",
}


def field(doc: dict[str, Any], name: str) -> Any:
    """``doc[name]`` in the spelling of 3.x (camelCase) or of 1.x/2.x (lower case)."""
    if name in doc:
        return doc[name]
    return doc.get(name.lower())


def parse_ninjs(doc: dict[str, Any], caller_url: str | None = None) -> Draft:
    """The article of one ninjs item (already loaded); :class:`NormalizeError` names what is missing."""
    uri = field(doc, "uri") or doc.get("guid")
    if uri is None or not str(uri).strip():
        raise NormalizeError("ninjs: field 'uri' is missing (every ninjs item has one: its global id)")
    if not isinstance(uri, str | int):
        raise NormalizeError(f"ninjs: field 'uri' has {_shown(uri)} (expected a string)")
    url = _web_url(doc)
    base = absolute_url(url, None) if url else (absolute_url(caller_url, None) if caller_url else None)
    title = _headline(doc)
    draft = Draft(
        title=title,
        guid=str(uri).strip(),
        url=url,
        source=_source(doc, str(uri)),
        language=_string(doc, "language"),
        authors=_authors(doc),
        tags=_tags(doc),
        image=_lead_image(doc, base),
        embargoed_until=_date(doc, "embargoedUntil") or _date(doc, "embargoed"),
        expires_at=_date(doc, "expires"),
        pub_status=_status(doc),
    )
    draft.published_at, draft.updated_at = _dates(doc)
    body = _body(doc)
    descriptions = _texts(doc, "descriptions", ("description_html", "description_text", "summary"))
    if body is None:  # an item with only descriptions: they are its text
        body = _pick(descriptions, _SUMMARY_ROLES)
    else:
        summary = _pick(descriptions, _SUMMARY_ROLES)
        draft.summary = " ".join(_plain_paragraphs(summary)) or None if summary else None
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


# A text: (role, value, is_html).
Text = tuple[str, str, bool]


def _texts(doc: dict[str, Any], array: str, flat: Iterable[str]) -> list[Text]:
    """Every ``{role, contentType, value}`` of ``array`` (2.x/3.x), then the 1.x flat fields."""
    out: list[Text] = []
    items = field(doc, array)
    if isinstance(items, str):  # one text where the schema has an array of them
        items = [items]
    if items is not None and not isinstance(items, list):
        raise NormalizeError(f"ninjs: field {array!r} has {_shown(items)} (expected an array of objects)")
    for i, item in enumerate(items or []):
        if isinstance(item, str):
            item = {"value": item}
        if not isinstance(item, dict):
            raise NormalizeError(f"ninjs: {array}[{i}] has {_shown(item)} (expected an object with 'value')")
        value = item.get("value")
        if not isinstance(value, str):
            raise NormalizeError(f"ninjs: {array}[{i}].value has {_shown(value)} (expected a string)")
        role = str(item.get("role") or "").strip().lower()
        kind = str(field(item, "contentType") or "").split(";")[0].strip().lower()
        markup = kind in _HTML_TYPES or "html" in role or (not kind and looks_like_html(value))
        out.append((role, value, markup))
    for name in flat:
        value = doc.get(name)
        if isinstance(value, str) and value.strip():
            markup = name.endswith(("_html", "_html5", "_xhtml")) or looks_like_html(value)
            out.append((name.split("_")[0], value, markup))
    return [t for t in out if t[1].strip()]


def _pick(texts: list[Text], roles: tuple[str, ...], *, markup_first: bool = False) -> Text | None:
    """The text for ``roles`` (in that order of preference; HTML before plain text within a role,
    or before any plain text with ``markup_first``); else the first."""
    if not texts:
        return None

    def rank(t: Text) -> tuple[int, int]:
        role = roles.index(t[0]) if t[0] in roles else len(roles)
        plain = 0 if t[2] else 1
        return (plain, role) if markup_first else (role, plain)

    return min(texts, key=rank)


def _body(doc: dict[str, Any]) -> Text | None:
    bodies = _texts(doc, "bodies", ("body_html", "body_html5", "body_xhtml", "body_text"))
    return _pick(bodies, ("main", "body", "html", "xhtml", "text", ""), markup_first=True)


def _headline(doc: dict[str, Any]) -> str:
    found = _pick(_texts(doc, "headlines", ("headline",)), ("main", "headline", "title", ""))
    if found is None:
        title = doc.get("title")
        if isinstance(title, str) and title.strip():
            return html.unescape(title)
        raise NormalizeError("ninjs: no headline (expected 'headlines' with role 'main', or 'headline')")
    return " ".join(_plain_paragraphs(found))


def _plain_paragraphs(text: Text) -> list[str]:
    return text_paragraphs(text[1])


def _string(doc: dict[str, Any], name: str) -> str | None:
    value = field(doc, name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise NormalizeError(f"ninjs: field {name!r} has {_shown(value)} (expected a string)")
    return value.strip() or None


def _date(doc: dict[str, Any], name: str) -> datetime | None:
    value = field(doc, name)
    if value is None or value is False or (isinstance(value, str) and not value.strip()):
        return None  # absent, empty, or (some 1.x feeds) ``"embargoed": false``
    parsed = parse_date(value)
    if parsed is None:
        raise NormalizeError(
            f"ninjs: field {name!r} has {_shown(value)}"
            " (expected an ISO 8601 date-time such as 2024-05-01T12:00:00Z)"
        )
    return parsed


def _dates(doc: dict[str, Any]) -> tuple[datetime | None, datetime | None]:
    """``(published_at, updated_at)``: first created (else this version, else the content), and
    this version's time when it is later."""
    version = _date(doc, "versionCreated")
    first = _date(doc, "firstCreated") or version or _date(doc, "contentCreated")
    return first, version if version and first and version > first else None


def _status(doc: dict[str, Any]) -> PubStatus:
    value = field(doc, "pubStatus")
    if value is None or value == "":
        return "usable"
    key = str(value).strip().lower().removeprefix("stat:")
    if key not in _STATUSES:
        raise NormalizeError(
            f"ninjs: field 'pubStatus' has {_shown(value)} (expected 'usable', 'withheld' or 'canceled')"
        )
    return _STATUSES[key]


def byline_names(value: str) -> list[str]:
    """``Von Christian Hollmann, dpa`` -> ``["Christian Hollmann", "dpa"]``; ``By A and B`` -> both."""
    text = _BYLINE_PREFIX.sub("", html.unescape(value).strip(), count=1)
    names = split_authors(_AND_WORDS.sub(", ", text))
    # Wire style writes names in capitals (``By LISA MASCARO``); an acronym alone (``AP``) stays.
    return [n.title() if n.isupper() and " " in n else n for n in names]


def _authors(doc: dict[str, Any]) -> list[str]:
    """``by`` (1.x ``byline``; a list of them too), AP's ``bylines``, else Superdesk's ``authors``
    and the ``people`` whose relation says they wrote it."""
    by = field(doc, "by") or doc.get("byline")
    if isinstance(by, str) and by.strip():
        return byline_names(by)
    lines = [*(by if isinstance(by, list) else []), *(doc.get("bylines") or [])]
    lines = [line.get("by") if isinstance(line, dict) else line for line in lines]
    names = [n for line in lines if isinstance(line, str) for n in byline_names(line)]
    if names:
        return names
    for entry in _objects(doc.get("authors")) + _objects(field(doc, "people")):
        rel = str(entry.get("rel") or entry.get("role") or "author").lower()
        name = entry.get("name")
        if isinstance(name, str) and name.strip() and rel in ("author", "writer", "creator", "journalist"):
            names.append(html.unescape(name.strip()))
    return names


def _objects(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        value = list(value.values())
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _tags(doc: dict[str, Any]) -> list[str]:
    """Subjects, genres and places by name, the item's dateline place, Superdesk's keywords."""
    tags: list[str] = []
    for plural, singular in (("subjects", "subject"), ("genres", "genre"), ("places", "place")):
        entries = doc.get(plural) if plural in doc else doc.get(singular)
        for entry in _objects(entries):
            name = entry.get("name") or entry.get("literal")
            if isinstance(name, str) and name.strip():
                tags.append(html.unescape(name.strip()))
    located = doc.get("located")
    if isinstance(located, str) and located.strip():
        tags.append(located.strip())
    keywords = doc.get("keywords")
    if isinstance(keywords, list):
        tags.extend(k.strip() for k in keywords if isinstance(k, str) and k.strip())
    return tags


def _web_url(doc: dict[str, Any]) -> str | None:
    """The item's web page: an ``altIds`` entry with a URL role, or an ``http(s)`` ``url`` extension."""
    for entry in _objects(field(doc, "altIds")):
        value = entry.get("value")
        role = str(entry.get("role") or "").lower()
        if role in _URL_ROLES and isinstance(value, str) and absolute_url(value, None):
            return value
    value = doc.get("url")
    return value if isinstance(value, str) and absolute_url(value, None) else None


def _source(doc: dict[str, Any], uri: str) -> str | None:
    """Who sent the item: Superdesk's ``source``, an info source that published it, the domain of a
    ``urn:newsml:DOMAIN:...`` or ``http(s)`` uri (``dpa.com`` -> ``dpa``), else the copyright holder."""
    given = doc.get("source")
    if isinstance(given, str) and given.strip():
        return given
    for entry in _objects(field(doc, "infoSources")):
        name = entry.get("name")
        if str(entry.get("role") or "").lower() in _SOURCE_ROLES and isinstance(name, str) and name.strip():
            return name
    from_uri = _uri_source(uri)
    if from_uri:
        return from_uri
    holder = field(doc, "copyrightHolder")
    return holder if isinstance(holder, str) and holder.strip() else None


def _uri_source(uri: str) -> str | None:
    """``urn:newsml:dpa.com:...`` -> ``dpa``, ``https://www.ntb.no/...`` -> ``ntb``,
    ``tag:tt.se,2024:...`` -> ``tt``, ``ntb:2024-...`` -> ``ntb``; ``None`` when it names nobody."""
    lowered = uri.strip().lower()
    scheme = lowered.split(":", 1)[0] if ":" in lowered else ""
    if lowered.startswith("urn:newsml:"):
        host = lowered.split(":")[2]
    elif scheme in ("http", "https"):
        host = urlsplit(lowered).hostname or ""
    elif scheme == "tag":
        host = re.split(r"[,:]", lowered[4:], maxsplit=1)[0]
    elif scheme == "urn":
        nid = lowered.split(":")[1] if lowered.count(":") >= 2 else ""
        return nid if re.fullmatch(r"[a-z][a-z0-9-]{1,30}", nid) and nid not in _GENERIC_NIDS else None
    else:
        return scheme if re.fullmatch(r"[a-z][a-z0-9-]{1,30}", scheme) else None
    labels = [p for p in host.split(".") if p and p != "www"]
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL:
        return labels[-3]  # bbc.co.uk -> bbc
    return labels[-2] if len(labels) >= 2 else None


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
    captions = _texts(assoc, "descriptions", ("description_text", "description_html"))
    caption = _pick(captions, _CAPTION_ROLES)
    headline = _pick(_texts(assoc, "headlines", ("headline",)), ("main", ""))
    credit = field(assoc, "by") or assoc.get("byline") or field(assoc, "copyrightHolder")
    return {
        "url": rendition.get("href"),
        "alt": " ".join(_plain_paragraphs(headline)) if headline else None,
        "caption": " ".join(_plain_paragraphs(caption)) if caption else None,
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
    renditions = _objects(assoc.get("renditions"))
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


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
