"""Who wrote a ninjs item, who sent it, where it is on the web and what it is about.

``authors`` reads the bylines (``By A and B``, wire-style capitals, a list of them), else the
named authors and people; ``source`` the sender (Superdesk's ``source``, an info source that
published it, the domain of the ``uri``, else the copyright holder); ``web_url`` the item's page;
``tags`` its subjects, genres, places, dateline place and keywords.
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urlsplit

from worker.normalize.links import absolute_url
from worker.normalize.ninjs_fields import field, objects
from worker.normalize.text import split_authors

_BYLINE_PREFIX = re.compile(r"^\s*(?:von|by|par|av|af|por|door|от|автор)\s*[:\s]\s*", re.IGNORECASE)
_AND_WORDS = re.compile(r"\s+(?:und|og|och|et|en|и|/)\s+", re.IGNORECASE)
_URL_ROLES = frozenset({"url", "web", "weburl", "canonical", "link", "permalink"})
_SOURCE_ROLES = frozenset({"publisher", "originator", "source", "provider", "distributor"})
_GENERIC_NIDS = frozenset({"uuid", "oid", "isbn", "issn", "ietf", "newsml", "publicid", "uri", "mrn"})
_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "gov", "ac", "or", "ne"})


def byline_names(value: str) -> list[str]:
    """``Von Christian Hollmann, dpa`` -> ``["Christian Hollmann", "dpa"]``; ``By A and B`` -> both."""
    text = _BYLINE_PREFIX.sub("", html.unescape(value).strip(), count=1)
    names = split_authors(_AND_WORDS.sub(", ", text))
    # Wire style writes names in capitals (``By LISA MASCARO``); an acronym alone (``AP``) stays.
    return [n.title() if n.isupper() and " " in n else n for n in names]


def authors(doc: dict[str, Any]) -> list[str]:
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
    for entry in objects(doc.get("authors")) + objects(field(doc, "people")):
        rel = str(entry.get("rel") or entry.get("role") or "author").lower()
        name = entry.get("name")
        if isinstance(name, str) and name.strip() and rel in ("author", "writer", "creator", "journalist"):
            names.append(html.unescape(name.strip()))
    return names


def tags(doc: dict[str, Any]) -> list[str]:
    """Subjects, genres and places by name, the item's dateline place, Superdesk's keywords."""
    tags: list[str] = []
    for plural, singular in (("subjects", "subject"), ("genres", "genre"), ("places", "place")):
        entries = doc.get(plural) if plural in doc else doc.get(singular)
        for entry in objects(entries):
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


def web_url(doc: dict[str, Any]) -> str | None:
    """The item's web page: an ``altIds`` entry with a URL role, or an ``http(s)`` ``url`` extension."""
    for entry in objects(field(doc, "altIds")):
        value = entry.get("value")
        role = str(entry.get("role") or "").lower()
        if role in _URL_ROLES and isinstance(value, str) and absolute_url(value, None):
            return value
    value = doc.get("url")
    return value if isinstance(value, str) and absolute_url(value, None) else None


def source(doc: dict[str, Any], uri: str) -> str | None:
    """Who sent the item: Superdesk's ``source``, an info source that published it, the domain of a
    ``urn:newsml:DOMAIN:...`` or ``http(s)`` uri (``dpa.com`` -> ``dpa``), else the copyright holder."""
    given = doc.get("source")
    if isinstance(given, str) and given.strip():
        return given
    for entry in objects(field(doc, "infoSources")):
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
