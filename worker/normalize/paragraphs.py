"""Plain paragraphs of an HTML fragment: the text of each block element, in order."""

from __future__ import annotations

import re

from lxml import etree

from worker.normalize.hygiene import strip_forbidden
from worker.normalize.markup import parse_document

# Elements that start a new paragraph, in HTML and in trafilatura's XML output.
BLOCKS = frozenset(
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
_BREAKS = frozenset({"br", "lb"})
_BREAK = "\x00"  # paragraph marker; strip_forbidden() has removed every real NUL before parsing


def html_to_paragraphs(fragment: str | etree._Element) -> list[str]:
    """The text of each block element of ``fragment`` (markup string or parsed tree), in order."""
    if isinstance(fragment, str):
        try:
            fragment = parse_document(strip_forbidden(fragment))
        except (etree.ParserError, ValueError):
            return []  # nothing but whitespace or comments
    chunks: list[str] = []
    _walk(fragment, chunks)
    return [" ".join(words) for p in "".join(chunks).split(_BREAK) if (words := p.split())]


def _walk(element: etree._Element, out: list[str]) -> None:
    tag = element.tag
    if isinstance(tag, str) and (tag := tag.lower()) and tag not in _NEVER:
        block = tag in BLOCKS
        if block:
            out.append(_BREAK)
        text = element.text
        if text:
            out.append(text)
        for child in element:
            _walk(child, out)
        if tag in _BREAKS:
            out.append(" ")
        if block:
            out.append(_BREAK)
    tail = element.tail
    if tail:
        out.append(tail)
