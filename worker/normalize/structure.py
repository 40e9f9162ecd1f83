"""Structured article bodies: a prepared tree in, the allowlisted ``body_html`` and its paragraphs out.

Every HTML body (CMS ``body_html``, ninjs HTML, the article trafilatura finds in a page) takes
the same path: ``markup.parse_fragment`` parses it, ``prepare.prepare`` makes the source tree
safe (for a page, ``stash`` keeps its figures aside and ``xmlbody`` turns trafilatura's XML into
the same HTML), and :func:`finish`, last, reduces the tags (``tags``), cleans the text, drops
the headline repeated in the body, empty blocks and the configured notices, and returns the
sanitized markup with one plain-text paragraph per block.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from worker.allowlist import sanitize
from worker.models import Notice
from worker.normalize import hygiene
from worker.normalize.detect import notice_blocks
from worker.normalize.markup import parse_fragment
from worker.normalize.paragraphs import html_to_paragraphs
from worker.normalize.prepare import prepare
from worker.normalize.stash import stash, unstash
from worker.normalize.tags import normalize_tags
from worker.normalize.tree import BLOCK_TAGS, append_text, drop, is_blank, text_of
from worker.normalize.xmlbody import from_trafilatura

# The stages before finish, importable from here as they were when this module held them all.
__all__ = ["FigureImage", "finish", "from_trafilatura", "parse_fragment", "prepare", "stash", "unstash"]

_LEAVES = ("p", "h2", "h3", "h4", "li", "figcaption", "pre", "blockquote", "caption")
_HOLDERS = (*_LEAVES, "ul", "ol", "table")  # a block holding one of these has no text of its own
_SKIP_TEXT = frozenset({"pre", "code"})
_BLOCK_NAMES = "p|h2|h3|h4|li|figcaption|blockquote|td|th|caption"
_OPEN_SPACE = re.compile(rf"(<(?:{_BLOCK_NAMES})(?:\s[^>]*)?>)\s+")
_CLOSE_TAG = re.compile(rf"(</(?:{_BLOCK_NAMES})>)")


@dataclass(frozen=True)
class FigureImage:
    """The first image of a body, with the caption of its figure."""

    url: str
    alt: str | None
    caption: str | None
    width: str | None
    height: str | None


def finish(
    root: etree._Element, title: str, notices: Sequence[Notice]
) -> tuple[str, list[str], list[str], FigureImage | None]:
    """``(body_html, paragraphs, notice ids found, first image)`` of a prepared tree."""
    normalize_tags(root)
    _clean_text(root)
    found = _drop_blocks(root, title, notices)
    _wrap_loose_text(root)
    figure = _first_image(root)
    markup = sanitize(_trim_block_space(_OPEN_SPACE.sub(r"\1", _serialize(root))))
    paragraphs = [p for p in map(hygiene.clean_text, html_to_paragraphs(markup)) if p]
    return markup, paragraphs, found, figure


def _serialize(root: etree._Element) -> str:
    """The root's children as HTML, one a line: serialized at once, the ``<div>`` around them cut.

    ``_wrap_loose_text`` left the root no text, no attribute and children without tails.
    """
    for child in root[:-1]:
        child.tail = "\n"
    markup = etree.tostring(root, encoding="unicode", method="html")
    return markup[len("<div>") : -len("</div>")]


def _trim_block_space(markup: str) -> str:
    """``markup`` without the white space before the end tag of a block (``\\s+</p>`` as ``</p>``;
    split and ``rstrip`` rather than that regex, which tries a match at every space)."""
    parts = _CLOSE_TAG.split(markup)  # text, end tag, text, ..., text
    for i in range(0, len(parts) - 1, 2):
        parts[i] = parts[i].rstrip()
    return "".join(parts)


def _clean_inline(text: str) -> str:
    """Clean one text node, keeping one space where it began or ended with white space."""
    cleaned = hygiene.clean_text(text)
    if cleaned is text:  # already clean (see hygiene.clean_text): no space at either end
        return text
    if not cleaned:
        return " " if text[:1].isspace() or text[-1:].isspace() else ""
    lead = " " if text[:1].isspace() else ""
    trail = " " if text[-1:].isspace() else ""
    return lead + cleaned + trail


def _clean_text(root: etree._Element) -> None:
    """Clean every text node, but those inside ``<pre>`` or ``<code>`` (only forbidden characters go)."""
    if any(a.tag in _SKIP_TEXT for a in root.iterancestors()):
        inside: set[etree._Element] | None = None  # everything is verbatim
    else:
        inside = {d for e in root.iter(*_SKIP_TEXT) for d in e.iterdescendants()}
    for element in root.iter():
        in_verbatim = inside is None or element in inside  # has a <pre> or <code> ancestor
        text = element.text
        if text:
            verbatim = in_verbatim or element.tag in _SKIP_TEXT
            cleaned = hygiene.strip_forbidden(text) if verbatim else _clean_inline(text)
            if cleaned != text:
                element.text = cleaned
        tail = element.tail
        if tail and element is not root:
            cleaned = hygiene.strip_forbidden(tail) if in_verbatim else _clean_inline(tail)
            if cleaned != tail:
                element.tail = cleaned


def _leaves(root: etree._Element) -> list[etree._Element]:
    """Blocks holding text of their own (a quote or item made of paragraphs is not one)."""
    holders = {a for e in root.iter(*_HOLDERS) for a in e.iterancestors()}
    return [e for e in root.iter(*_LEAVES) if e not in holders]


def _drop_blocks(root: etree._Element, title: str, notices: Sequence[Notice]) -> list[str]:
    leaves = _leaves(root)
    texts = [text_of(leaf) for leaf in leaves]
    doomed: set[int] = set()
    heading = title.casefold()
    # A block repeated right after itself goes (a CMS glitch); other repeats stay: in a structured
    # body they are structure ("Pre-workout meal" under each plan), and dropping them cost body
    # text on real pages (see tests/bench/extraction.py).
    previous = ""
    for i, (leaf, text) in enumerate(zip(leaves, texts, strict=True)):
        key = text.casefold()
        if (not text and not any(True for _ in leaf.iter("img"))) or key in {heading, previous}:
            doomed.add(i)
        previous = key or previous
    indices, found = notice_blocks(texts, notices)
    doomed.update(indices)
    for i in sorted(doomed, reverse=True):
        drop(leaves[i])
    _drop_empty_containers(root)
    return found


def _drop_empty_containers(root: etree._Element) -> None:
    changed = True
    while changed:
        changed = False
        for element in list(root.iter("ul", "ol", "blockquote", "figure", "table", "tr", "tbody", "thead")):
            if element is not root and is_blank(element) and not any(True for _ in element.iter("img")):
                drop(element)
                changed = True


def _wrap_loose_text(root: etree._Element) -> None:
    """Inline content directly under the root goes into paragraphs."""
    if _only_blocks(root):  # the common case: what _wrap_inline would do, without moving anything
        root.text = None
        for child in root:
            child.tail = None
    else:
        _wrap_inline(root)


def _wrap_inline(root: etree._Element) -> None:
    out = etree.Element("div")
    current: etree._Element | None = None

    def paragraph() -> etree._Element:
        nonlocal current
        if current is None:
            current = etree.SubElement(out, "p")
        return current

    if root.text and root.text.strip():
        paragraph().text = root.text
    for child in list(root):
        tail = child.tail
        child.tail = None
        if child.tag in BLOCK_TAGS:
            current = None
            out.append(child)
        elif child.tag == "br":
            current = None
        else:
            paragraph().append(child)
        if tail and tail.strip():
            append_text(paragraph(), tail)
    root.text = None
    for child in list(root):
        root.remove(child)
    root.extend(list(out))


def _only_blocks(root: etree._Element) -> bool:
    """No text but white space directly under the root, and every child a block (nothing to wrap)."""
    if root.text and root.text.strip():
        return False
    return all(child.tag in BLOCK_TAGS and not (child.tail and child.tail.strip()) for child in root)


def _first_image(root: etree._Element) -> FigureImage | None:
    for img in root.iter("img"):
        src = img.get("src")
        if not src:
            continue
        caption = None
        figure = next((a for a in img.iterancestors("figure")), None)
        if figure is not None:
            node = next(iter(figure.iter("figcaption")), None)
            caption = text_of(node) if node is not None else None
        return FigureImage(src, img.get("alt") or None, caption or None, img.get("width"), img.get("height"))
    return None
