"""HTML strings to lxml trees, as ``lxml.html`` parses them but without its Python element classes.

:func:`parse_fragment` is where every HTML body enters the structure path.

``lxml.html``'s parser is libxml2's HTML parser with an element class lookup that calls back into
Python for every element the code touches; the bodies of articles need no ``HtmlElement`` method,
so the plain parser (the same parser, the same options, the same trees) saves those calls.
"""

from __future__ import annotations

import re

from lxml import etree

from worker.normalize import hygiene
from worker.normalize.tree import append_text

_PARSER = etree.HTMLParser()
_FULL_HTML = re.compile(r"^\s*<(?:html|!doctype)", re.IGNORECASE)  # lxml.html's own test


def parse_document(markup: str) -> etree._Element:
    """The ``<html>`` root of ``markup`` (``lxml.html.document_fromstring``); ``ParserError`` when empty."""
    root = etree.fromstring(markup, _PARSER)
    if root is None:
        raise etree.ParserError("Document is empty")
    return root


def parse_fragments(markup: str) -> list[str | etree._Element]:
    """The elements of ``markup``'s body, after its leading text unless that is blank
    (``lxml.html.fragments_fromstring``)."""
    if not _FULL_HTML.match(markup):
        markup = f"<html><body>{markup}</body></html>"
    bodies = [e for e in parse_document(markup) if e.tag == "body"]
    if len(bodies) != 1:  # (a document of only a <head>): lxml.html's own failure, kept as it was
        raise AssertionError(f"too many bodies: {bodies!r} in {markup!r}")
    body = bodies[0]
    leading: list[str | etree._Element] = [body.text] if body.text and body.text.strip() else []
    return [*leading, *body]


def parse_fragment(markup: str) -> etree._Element:
    """A ``<div>`` holding the parsed fragment (an empty one for markup with no elements)."""
    try:
        fragments = parse_fragments(hygiene.strip_forbidden(markup))
    except (etree.ParserError, ValueError, AssertionError):  # (Assertion: a document with no body)
        fragments = []
    root = etree.Element("div")
    for fragment in fragments:
        if isinstance(fragment, str):
            append_text(root, fragment)
        else:
            root.append(fragment)
    return root
