"""Edits of lxml trees that every stage of the structure path shares.

Removing an element keeps the text after it (its ``tail``); unwrapping one keeps its content in
its place; the text of an element is its text nodes, spaces collapsed.
"""

from __future__ import annotations

import re

from lxml import etree

# Block-level tags, the allowlist's and those the structure path renames or unwraps.
BLOCK_TAGS = frozenset(
    re.split(
        r"\s+",
        "p h2 h3 h4 ul ol li blockquote figure figcaption pre table hr div section article main header"
        " aside details summary dl dd dt address center hgroup h1 h5 h6 tr td th caption",
    )
)


def drop(element: etree._Element) -> None:
    """Remove ``element`` and what it holds; its tail joins the text before it."""
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail
    if tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)


def unwrap(element: etree._Element) -> None:
    """Remove ``element``'s tag, keeping its text and children in its place (not the root's)."""
    parent = element.getparent()
    if parent is None:
        return
    _drop_tag(element)


def _drop_tag(element: etree._Element) -> None:
    parent = element.getparent()
    index = parent.index(element)
    text = element.text or ""
    if index:
        prev = parent[index - 1]
        prev.tail = (prev.tail or "") + text
    else:
        parent.text = (parent.text or "") + text
    children = list(element)
    for offset, child in enumerate(children):
        parent.insert(index + offset, child)
    last_tail = element.tail or ""
    if children:
        children[-1].tail = (children[-1].tail or "") + last_tail
    elif index:
        parent[index - 1].tail = (parent[index - 1].tail or "") + last_tail
    else:
        parent.text = (parent.text or "") + last_tail
    parent.remove(element)


def append_text(parent: etree._Element, text: str) -> None:
    """Add ``text`` at the end of ``parent``'s content (the last child's tail, else its text)."""
    if len(parent):
        parent[-1].tail = (parent[-1].tail or "") + text
    else:
        parent.text = (parent.text or "") + text


def text_of(element: etree._Element) -> str:
    """The element's text, spaces collapsed: its text nodes joined (``"".join(itertext())``, but
    serialized by libxml2 at once, without a Python object per node; the two differ only on entity
    reference nodes, which no tree here holds: the HTML parser resolves entities)."""
    return " ".join(etree.tostring(element, method="text", encoding="unicode", with_tail=False).split())


def is_blank(element: etree._Element) -> bool:
    """``not text_of(element)``: no text but white space."""
    text = etree.tostring(element, method="text", encoding="unicode", with_tail=False)
    return not text or text.isspace()
