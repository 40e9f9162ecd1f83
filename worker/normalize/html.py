"""HTML pages: trafilatura for the article body, meta tags and htmldate for the rest.

Only plain text leaves this module: scripts, styles, event handlers and links never reach
the article, whose HTML is rebuilt from paragraphs and sanitized at the very end.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

import lxml.html
from lxml import etree

from worker.normalize.dates import parse_date
from worker.normalize.draft import Draft
from worker.normalize.errors import NormalizeError
from worker.normalize.hygiene import strip_forbidden
from worker.normalize.text import split_authors

# Elements that start a new paragraph, in HTML and in trafilatura's XML output.
_BLOCKS = frozenset(
    re.split(
        r"\s+",
        "p div section article main header li dd dt blockquote pre h1 h2 h3 h4 h5 h6 tr td th"
        " figcaption address head item quote code list table row cell ul ol dl",
    )
)
# Elements whose content is never article text.
_NEVER = frozenset(
    re.split(
        r"\s+",
        "script style noscript template iframe object embed svg math canvas form button input select"
        " textarea nav aside footer",
    )
)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_BREAK = "\x00"  # paragraph marker; strip_forbidden() has removed every real NUL before parsing


def html_to_paragraphs(fragment: str | etree._Element) -> list[str]:
    """The text of each block element of ``fragment`` (markup string or parsed tree), in order."""
    if isinstance(fragment, str):
        try:
            fragment = lxml.html.document_fromstring(strip_forbidden(fragment))
        except (etree.ParserError, ValueError):
            return []  # nothing but whitespace or comments
    chunks: list[str] = []
    _walk(fragment, chunks)
    return [" ".join(p.split()) for p in "".join(chunks).split(_BREAK) if p.strip()]


def _walk(element: etree._Element, out: list[str]) -> None:
    tag = element.tag.lower() if isinstance(element.tag, str) else ""
    if tag and tag not in _NEVER:
        block = tag in _BLOCKS
        if block:
            out.append(_BREAK)
        out.append(element.text or "")
        for child in element:
            _walk(child, out)
        if tag in {"br", "lb"}:
            out.append(" ")
        if block:
            out.append(_BREAK)
    out.append(element.tail or "")


def parse_html(page: str) -> Draft:
    """The article of an HTML page. Raises :class:`NormalizeError` when the page holds no article text."""
    page = _XML_DECLARATION.sub("", page, count=1)
    try:
        tree = lxml.html.document_fromstring(page)
    except (etree.ParserError, ValueError) as exc:
        raise NormalizeError(f"html: the page cannot be parsed ({exc})") from exc
    # Read the tree before trafilatura runs: it prunes the tree it works on.
    meta = _meta(tree)
    h1 = _first_text(tree.xpath("//h1"))
    head_title = _first_text(tree.xpath("//title"))
    canonical = _canonical_link(tree) or meta.get("og:url")
    language = tree.get("lang") or tree.get("xml:lang") or meta.get("og:locale")
    found_date = _htmldate(tree)
    import trafilatura  # here, not at the top: it costs 0.3 s to import and only pages need it

    doc = trafilatura.bare_extraction(
        page,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        include_links=False,
        include_images=False,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    paragraphs = html_to_paragraphs(doc.body) if doc is not None and doc.body is not None else []
    if not paragraphs:
        raise NormalizeError("html: no article text found in the page")
    title = meta.get("og:title") or h1 or (doc.title if doc else None) or head_title
    draft = Draft(title=title or "", paragraphs=paragraphs)
    authors = meta.get("author") or meta.get("article:author") or (doc.author or "" if doc else "")
    draft.authors = split_authors(authors.replace(";", ","))
    draft.published_at = parse_date(meta.get("article:published_time")) or found_date
    draft.updated_at = parse_date(meta.get("article:modified_time"))
    draft.section = meta.get("article:section") or ((doc.categories or [None])[0] if doc else None)
    draft.tags = [*meta.get_all("article:tag"), *_split_keywords(meta.get("keywords"))]
    draft.summary = meta.get("og:description") or meta.get("description")
    draft.url = canonical
    draft.language = language
    return draft


class _Meta(dict[str, list[str]]):
    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        values = self.get_all(key)
        return values[0] if values else default

    def get_all(self, key: str) -> list[str]:
        return [v for v in super().get(key, []) if v.strip()]


def _meta(tree: etree._Element) -> _Meta:
    meta = _Meta()
    for element in tree.xpath("//meta[@content]"):
        key = (element.get("property") or element.get("name") or element.get("itemprop") or "").lower()
        if key:
            meta.setdefault(key.strip(), []).append(element.get("content", ""))
    return meta


def _first_text(elements: Iterable[etree._Element]) -> str | None:
    for element in elements:
        text = " ".join(element.text_content().split())
        if text:
            return text
    return None


def _canonical_link(tree: etree._Element) -> str | None:
    for link in tree.xpath("//link[@href]"):
        if "canonical" in (link.get("rel") or "").lower().split():
            return link.get("href")
    return None


def _split_keywords(value: str | None) -> list[str]:
    return [k.strip() for k in (value or "").split(",") if k.strip()]


def _htmldate(tree: etree._Element) -> datetime | None:
    import htmldate  # with trafilatura, only when a page is parsed

    found = htmldate.find_date(
        tree, original_date=True, extensive_search=False, outputformat="%Y-%m-%dT%H:%M:%S%z"
    )
    return parse_date(found)
