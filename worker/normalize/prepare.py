"""A source tree made safe to extract from, in place (the first stage of the structure path).

Embeds become a plain link, URLs become absolute (against the article's URL or the page's
``<base>``) without tracking parameters, lazy images get their ``src``, tracking pixels, scripted
links and dangerous elements go.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from lxml import etree

from worker.allowlist import DROP_WITH_CONTENT
from worker.normalize.links import absolute_url, image_source, is_pixel
from worker.normalize.tree import BLOCK_TAGS, drop, text_of

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
_SCRIPTED = re.compile(r"^\s*(?:javascript|vbscript|data)\s*:", re.IGNORECASE)


def prepare(root: etree._Element, base: str | None, *, page: bool = False) -> None:
    """Make a source tree safe to extract from, in place (see the module docstring).

    ``page``: a whole page, whose navigation menus go too (never article text). A ``<form>`` loses
    its controls but not its content: some sites wrap the whole page in one.
    """
    etree.strip_tags(root, etree.Comment, etree.ProcessingInstruction)  # their tails are text: kept
    for element in list(root.iter(*DROP_WITH_CONTENT - EMBEDS - {"form"}, *(("nav",) if page else ()))):
        drop(element)
    for element in list(root.iter(*EMBEDS)):
        if element.getparent() is not None:
            _embed_to_link(element, base)
    for img in list(root.iter("img")):
        src = absolute_url(image_source(img), base, "src")
        if src is None or is_pixel(img):
            drop(img)
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
    block = next((a for a in link.iterancestors() if a.tag in BLOCK_TAGS), None)
    if block is not None and text_of(block) == text_of(link):
        drop(link)
    else:
        link.attrib.pop("href", None)


def _embed_to_link(element: etree._Element, base: str | None) -> None:
    """A video or social post embed as a plain link to it; other frames (ads, widgets) go."""
    src = element.get("src") or element.get("data") or element.get("data-src")
    if src is None:
        source = next(iter(element.iter("source")), None)
        src = source.get("src") if source is not None else None
    url = absolute_url(src, base)
    if url is None or url.startswith("mailto:") or not _is_media(element.tag, url):
        drop(element)
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
