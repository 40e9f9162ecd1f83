"""Structured article bodies: a parsed fragment in, the allowlisted ``body_html`` and its paragraphs out.

Every HTML body (CMS ``body_html``, the article trafilatura finds in a page) passes here:

* :func:`prepare` works on the source tree: embeds become a plain link, URLs become absolute
  (against the article's URL or the page's ``<base>``) without tracking parameters, lazy images get
  their ``src``, tracking pixels and dangerous elements go;
* :func:`from_trafilatura` turns trafilatura's XML body into the same HTML vocabulary;
* :func:`finish` cleans the text, drops the headline repeated in the body, empty blocks and the
  configured notices, and returns the sanitized markup with one plain-text paragraph per block.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

from worker.allowlist import DROP_WITH_CONTENT, sanitize
from worker.models import Notice
from worker.normalize import hygiene
from worker.normalize.detect import notice_blocks
from worker.normalize.links import absolute_url, image_source, is_pixel
from worker.normalize.paragraphs import html_to_paragraphs

EMBEDS = frozenset({"iframe", "embed", "object", "video", "audio"})
# Where an embedded frame shows a video, a sound or a social post (a frame elsewhere is an ad or a widget).
EMBED_HOSTS = frozenset(
    re.split(
        r"\s+",
        "youtube.com youtube-nocookie.com youtu.be vimeo.com dailymotion.com twitter.com x.com"
        " instagram.com facebook.com tiktok.com soundcloud.com spotify.com rumble.com vk.com t.me"
        " telegram.org flickr.com podcasts.apple.com archive.org ted.com twitch.tv bsky.app"
        " threads.net mastodon.social reddit.com linkedin.com giphy.com datawrapper.de flourish.studio"
        " infogram.com google.com",
    )
)
# Block containers whose own tag is not allowed: renamed to <p> when they hold only inline
# content, unwrapped otherwise (so that their paragraphs stay paragraphs).
_CONTAINERS = frozenset(
    re.split(
        r"\s+",
        "div section article main header aside details summary dl dd dt address center hgroup picture"
        " span font form",
    )
)
_SPAN_LIKE = frozenset({"span", "font", "picture"})
_BLOCKS = frozenset(
    re.split(
        r"\s+",
        "p h2 h3 h4 ul ol li blockquote figure figcaption pre table hr div section article main header"
        " aside details summary dl dd dt address center hgroup h1 h5 h6 tr td th caption",
    )
)
_LEAVES = ("p", "h2", "h3", "h4", "li", "figcaption", "pre", "blockquote", "caption")
_RENAME = {"h1": "h2", "h5": "h4", "h6": "h4", "strike": "s", "del": "s", "ins": "u", "tt": "code"}
_XML_HI = {"#b": "strong", "#i": "em", "#u": "u", "#t": "code", "#sub": "sub", "#sup": "sup"}
_SKIP_TEXT = frozenset({"pre", "code"})
_TAG_NAME = re.compile(r"^[a-z][a-z0-9]*$")
_IMG_ATTRS = frozenset({"src", "alt", "width", "height"})
_SCRIPTED = re.compile(r"^\s*(?:javascript|vbscript|data)\s*:", re.IGNORECASE)
_BLOCK_NAMES = "p|h2|h3|h4|li|figcaption|blockquote|td|th|caption"
_OPEN_SPACE = re.compile(rf"(<(?:{_BLOCK_NAMES})(?:\s[^>]*)?>)\s+")
_CLOSE_SPACE = re.compile(rf"\s+(</(?:{_BLOCK_NAMES})>)")


@dataclass(frozen=True)
class FigureImage:
    """The first image of a body, with the caption of its figure."""

    url: str
    alt: str | None
    caption: str | None
    width: str | None
    height: str | None


def prepare(root: etree._Element, base: str | None, *, page: bool = False) -> None:
    """Make a source tree safe to extract from, in place (see the module docstring).

    ``page``: a whole page, whose navigation menus go too (never article text). A ``<form>`` loses
    its controls but not its content: some sites wrap the whole page in one.
    """
    etree.strip_tags(root, etree.Comment, etree.ProcessingInstruction)  # their tails are text: kept
    for element in list(root.iter(*DROP_WITH_CONTENT - EMBEDS - {"form"}, *(("nav",) if page else ()))):
        _drop(element)
    for element in list(root.iter(*EMBEDS)):
        if element.getparent() is not None:
            _embed_to_link(element, base)
    for img in list(root.iter("img")):
        src = absolute_url(image_source(img), base, "src")
        if src is None or is_pixel(img):
            _drop(img)
        else:
            img.set("src", src)
    for link in list(root.iter("a")):
        if _SCRIPTED.match(link.get("href") or ""):
            _drop_control(link)
            continue
        href = absolute_url(link.get("href"), base)
        if href is None:
            link.attrib.pop("href", None)
        else:
            link.set("href", href)
    for quote in root.iter("blockquote", "q"):
        cite = absolute_url(quote.get("cite"), base, "cite")
        if cite is None:
            quote.attrib.pop("cite", None)
        else:
            quote.set("cite", cite)


def _drop_control(link: etree._Element) -> None:
    """A script link: its text stays in a sentence, but a control standing alone ("Click me") goes."""
    block = next((a for a in link.iterancestors() if a.tag in _BLOCKS), None)
    if block is not None and _text(block) == _text(link):
        _drop(link)
    else:
        link.attrib.pop("href", None)


@dataclass
class Stashed:
    """A figure or an embed taken out of a page before extraction, with the text around it."""

    element: etree._Element
    before: str  # the end of the block before it ("" at the start)
    after: str  # the start of the block after it


_ANCHOR_BLOCKS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "dd", "td")
_ANCHOR = 60
_PICTURE_FILES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif")


def _anchor_text(element: etree._Element) -> str:
    return _text(element).casefold()


def stash(root: etree._Element) -> list[Stashed]:
    """Take figures and embeds out of a page, remembering the text blocks on either side.

    trafilatura drops captions and link-only paragraphs, and keeping images in its extraction
    pulls page chrome in with them (measured over the development set: F1 0.965 -> 0.969).
    :func:`unstash` puts each back next to its neighbouring block when that block is part of the
    extracted article, so a figure of a teaser or a sidebar never comes back.
    """
    items: list[tuple[etree._Element, int]] = []
    taken: set[etree._Element] = set()
    texts: list[str] = []
    for element in root.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        if not tag or any(a in taken for a in element.iterancestors()):
            continue
        if _stashable(element, tag):
            items.append((element, len(texts)))
            taken.add(element)
        elif tag in _ANCHOR_BLOCKS and not any(d.tag in _ANCHOR_BLOCKS for d in element.iterdescendants()):
            text = _anchor_text(element)
            if text:
                texts.append(text)
    out = []
    for element, position in items:
        before = texts[position - 1][-_ANCHOR:] if position else ""
        after = texts[position][:_ANCHOR] if position < len(texts) else ""
        out.append(Stashed(element, before, after))
        _drop(element)
    return out


def _stashable(element: etree._Element, tag: str) -> bool:
    """A figure with an image, an embed link, or a picture standing alone (no link, no icon size)."""
    if tag == "figure":
        return any(True for _ in element.iter("img"))
    if tag == "p":
        return element.get("data-embed") is not None
    if tag != "img" or any(a.tag in {"figure", "a", "picture"} for a in element.iterancestors()):
        return False
    sizes = [element.get(n, "").strip() for n in ("width", "height")]
    if any(v.isdigit() and int(v) < 100 for v in sizes):
        return False  # an icon
    path = urlsplit(element.get("src") or "").path.lower()
    return path.endswith(_PICTURE_FILES) or all(v.isdigit() for v in sizes)


def unstash(body: etree._Element, kept: list[Stashed]) -> None:
    """Put back each stashed figure or embed next to its neighbouring block, if that block is in ``body``."""
    leaves = [
        e for e in body.iter(*_ANCHOR_BLOCKS) if not any(d.tag in _ANCHOR_BLOCKS for d in e.iterdescendants())
    ]
    texts = [_anchor_text(leaf) for leaf in leaves]
    last: dict[int, etree._Element] = {}
    for item in kept:
        node = _figure(item.element) if item.element.tag in {"figure", "img"} else item.element
        node.tail = None
        if item.before:
            index = next((i for i, t in enumerate(texts) if item.before in t), None)
            if index is not None:
                anchor = last[index] if index in last else _top(body, leaves[index])
                anchor.addnext(node)
                last[index] = node
                continue
        if item.after:
            index = next((i for i, t in enumerate(texts) if item.after in t), None)
            if index is not None:
                _top(body, leaves[index]).addprevious(node)


def _top(body: etree._Element, element: etree._Element) -> etree._Element:
    """The ancestor of ``element`` (or itself) that is a child of ``body``."""
    while element.getparent() is not None and element.getparent() is not body:
        element = element.getparent()
    return element


def _figure(figure: etree._Element) -> etree._Element:
    """A figure reduced to its first image and its caption."""
    out = etree.Element("figure")
    img = next(figure.iter("img"))  # (a lone <img> is its own first image)
    out.append(etree.Element("img", {k: v for k, v in img.attrib.items() if k in _IMG_ATTRS}))
    caption = next(iter(figure.iter("figcaption")), None)
    if caption is not None and _text(caption):
        node = etree.SubElement(out, "figcaption")
        node.text = _text(caption)
    return out


def _embed_to_link(element: etree._Element, base: str | None) -> None:
    """A video or social post embed as a plain link to it; other frames (ads, widgets) go."""
    src = element.get("src") or element.get("data") or element.get("data-src")
    if src is None:
        source = next(iter(element.iter("source")), None)
        src = source.get("src") if source is not None else None
    url = absolute_url(src, base)
    if url is None or url.startswith("mailto:") or not _is_media(element.tag, url):
        _drop(element)
        return
    paragraph = etree.Element("p", {"data-embed": "1"})
    link = etree.SubElement(paragraph, "a", href=url)
    link.text = " ".join((element.get("title") or "").split()) or url
    paragraph.tail = element.tail
    element.getparent().replace(element, paragraph)


def _is_media(tag: str, url: str) -> bool:
    if tag in {"video", "audio"}:
        return True
    host = (urlsplit(url).hostname or "").lower()
    return any(host == h or host.endswith("." + h) for h in EMBED_HOSTS)


def _drop(element: etree._Element) -> None:
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


def from_trafilatura(body: etree._Element) -> etree._Element:
    """trafilatura's XML body (``p``, ``head``, ``list``/``item``, ``quote``, ``ref``, ``hi``...) as HTML."""

    root = etree.Element("div")
    root.text = body.text
    root.extend(list(body))
    for element in root.iter():
        tag = element.tag
        if not isinstance(tag, str):
            continue
        attrs = dict(element.attrib)
        element.attrib.clear()
        if tag == "head":
            level = attrs.get("rend", "h3")[1:]
            element.tag = f"h{min(4, max(2, int(level) if level.isdigit() else 3))}"
        elif tag == "list":
            element.tag = "ol" if attrs.get("rend") == "ol" else "ul"
        elif tag == "item":
            element.tag = "li"
        elif tag == "quote":
            element.tag = "blockquote"
        elif tag == "code":
            element.tag = "pre"
        elif tag == "lb":
            element.tag = "br"
        elif tag == "graphic":
            element.tag = "img"
            for name in ("src", "alt"):
                if attrs.get(name):
                    element.set(name, attrs[name])
        elif tag == "ref":
            element.tag = "a"
            if attrs.get("target"):
                element.set("href", attrs["target"])
        elif tag == "hi":
            element.tag = _XML_HI.get(attrs.get("rend", "#i"), "em")
        elif tag == "del":
            element.tag = "s"
        elif tag == "row":
            element.tag = "tr"
        elif tag == "cell":
            element.tag = "th" if attrs.get("role") == "head" else "td"
    _space_inline(root)
    return root


_INLINE = frozenset({"a", "strong", "em", "u", "code", "sub", "sup", "s", "b", "i"})


def _space_inline(root: etree._Element) -> None:
    """trafilatura trims the space between a link or emphasis and the words around it: put it back."""
    for element in root.iter(*_INLINE):
        tail = element.tail or ""
        if tail[:1].isalnum() and _text(element)[-1:].isalnum():
            element.tail = " " + tail
        previous = element.getprevious()
        before = (previous.tail if previous is not None else element.getparent().text) or ""
        if before[-1:].isalnum() and (element.text or "")[:1].isalnum():
            if previous is not None:
                previous.tail = before + " "
            else:
                element.getparent().text = before + " "


def finish(
    root: etree._Element, title: str, notices: Sequence[Notice]
) -> tuple[str, list[str], list[str], FigureImage | None]:
    """``(body_html, paragraphs, notice ids found, first image)`` of a prepared tree."""
    _normalize_tags(root)
    _clean_text(root)
    found = _drop_blocks(root, title, notices)
    _wrap_loose_text(root)
    figure = _first_image(root)
    parts = [etree.tostring(child, encoding="unicode", method="html", with_tail=False) for child in root]
    markup = sanitize(_CLOSE_SPACE.sub(r"\1", _OPEN_SPACE.sub(r"\1", "\n".join(parts))))
    paragraphs = [p for p in map(hygiene.clean_text, html_to_paragraphs(markup)) if p]
    return markup, paragraphs, found, figure


def parse_fragment(markup: str) -> etree._Element:
    """A ``<div>`` holding the parsed fragment (an empty one for markup with no elements)."""
    try:
        fragments = lxml.html.fragments_fromstring(hygiene.strip_forbidden(markup))
    except (etree.ParserError, ValueError):
        fragments = []
    root = etree.Element("div")
    for fragment in fragments:
        if isinstance(fragment, str):
            _append_text(root, fragment)
        else:
            root.append(fragment)
    return root


def _append_text(parent: etree._Element, text: str) -> None:
    if len(parent):
        parent[-1].tail = (parent[-1].tail or "") + text
    else:
        parent.text = (parent.text or "") + text


def _normalize_tags(root: etree._Element) -> None:
    for element in list(root.iter()):
        if not isinstance(element.tag, str):  # comments, processing instructions
            _drop(element)
            continue
        name = element.tag.lower()
        if not _TAG_NAME.match(name):  # the parser keeps names like "news<p": not an element of ours
            _unwrap(element)
            continue
        element.tag = _RENAME.get(name, name)
        if element.tag == "a" and not element.get("href"):
            _unwrap(element)
    for element in list(root.iter(*_CONTAINERS)):
        if element is root:
            continue
        if element.tag in _SPAN_LIKE or any(child.tag in _BLOCKS for child in element.iterdescendants()):
            _unwrap(element)
        else:
            element.tag = "p"
            element.attrib.clear()
    for element in root.iter("p"):  # a <p> inside a <p> (renamed containers) would nest: unwrap it
        if any(a.tag == "p" for a in element.iterancestors()):
            element.tag = "span"
    for element in list(root.iter("span")):
        _unwrap(element)


def _unwrap(element: etree._Element) -> None:
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


def _clean_inline(text: str) -> str:
    """Clean one text node, keeping one space where it began or ended with white space."""
    cleaned = hygiene.clean_text(text)
    if not cleaned:
        return " " if text[:1].isspace() or text[-1:].isspace() else ""
    lead = " " if text[:1].isspace() else ""
    trail = " " if text[-1:].isspace() else ""
    return lead + cleaned + trail


def _clean_text(root: etree._Element) -> None:
    for element in root.iter():
        verbatim = element.tag in _SKIP_TEXT or any(a.tag in _SKIP_TEXT for a in element.iterancestors())
        if element.text:
            element.text = hygiene.strip_forbidden(element.text) if verbatim else _clean_inline(element.text)
        if element.tail and element is not root:
            parent_verbatim = any(a.tag in _SKIP_TEXT for a in element.iterancestors())
            tail = element.tail
            element.tail = hygiene.strip_forbidden(tail) if parent_verbatim else _clean_inline(tail)


def _text(element: etree._Element) -> str:
    return " ".join("".join(element.itertext()).split())


def _leaves(root: etree._Element) -> list[etree._Element]:
    """Blocks holding text of their own (a quote or item made of paragraphs is not one)."""
    out = []
    for element in root.iter(*_LEAVES):
        if not any(
            child.tag in _LEAVES or child.tag in {"ul", "ol", "table"} for child in element.iterdescendants()
        ):
            out.append(element)
    return out


def _drop_blocks(root: etree._Element, title: str, notices: Sequence[Notice]) -> list[str]:
    leaves = _leaves(root)
    texts = [_text(leaf) for leaf in leaves]
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
        _drop(leaves[i])
    _drop_empty_containers(root)
    return found


def _drop_empty_containers(root: etree._Element) -> None:
    changed = True
    while changed:
        changed = False
        for element in list(root.iter("ul", "ol", "blockquote", "figure", "table", "tr", "tbody", "thead")):
            if element is not root and not _text(element) and not any(True for _ in element.iter("img")):
                _drop(element)
                changed = True


def _wrap_loose_text(root: etree._Element) -> None:
    """Inline content directly under the root goes into paragraphs."""
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
        if child.tag in _BLOCKS:
            current = None
            out.append(child)
        elif child.tag == "br":
            current = None
        else:
            paragraph().append(child)
        if tail and tail.strip():
            _append_text(paragraph(), tail)
    root.text = None
    for child in list(root):
        root.remove(child)
    root.extend(list(out))


def _first_image(root: etree._Element) -> FigureImage | None:
    for img in root.iter("img"):
        src = img.get("src")
        if not src:
            continue
        caption = None
        figure = next((a for a in img.iterancestors("figure")), None)
        if figure is not None:
            node = next(iter(figure.iter("figcaption")), None)
            caption = _text(node) if node is not None else None
        return FigureImage(src, img.get("alt") or None, caption or None, img.get("width"), img.get("height"))
    return None
