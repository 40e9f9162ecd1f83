"""The one HTML allowlist of article bodies, shared by normalization and every channel.

It sits at the bottom of the import ladder (like ``models``): it imports nothing of the project,
so ``worker/normalize`` builds ``body_html`` with it and ``feeds/`` sanitizes with it once more
before anything leaves. Structure is kept (paragraphs, subheads, links, lists, quotes, figures,
simple tables); never scripts, styles, inline ``style``, event handlers, frames, objects or forms,
and only absolute ``http``/``https`` (plus ``mailto`` for links) URLs.
"""

from __future__ import annotations

import re
from typing import Any

import nh3

TAGS = frozenset(
    re.split(
        r"\s+",
        "p h2 h3 h4 a strong em b i u s sub sup mark small ul ol li blockquote cite q figure figcaption"
        " img br hr table thead tbody tfoot tr th td caption pre code abbr time",
    )
)
ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "blockquote": {"cite"},
    "q": {"cite"},
    "abbr": {"title"},
    "time": {"datetime"},
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"},
    "ol": {"start"},
}
# Attributes that hold a URL, and the schemes each may use.
URL_SCHEMES: dict[str, tuple[str, ...]] = {
    "href": ("http://", "https://", "mailto:"),
    "src": ("http://", "https://"),
    "cite": ("http://", "https://"),
}
# Elements removed with everything inside them (nh3 would keep the text of a dropped tag).
DROP_WITH_CONTENT = frozenset(
    re.split(
        r"\s+",
        "script style noscript template iframe object embed applet frame frameset svg math canvas form"
        " button input select option textarea audio video source track map area dialog",
    )
)
_DIGITS = frozenset("0123456789")
# What a URL attribute never holds: white space (``\\s`` is ``str.isspace``) and C0 controls.
_NOT_IN_URL = re.compile(r"[\s\x00-\x1f]")


def url_allowed(attribute: str, value: str) -> bool:
    """True when ``value`` is an absolute URL of a scheme ``attribute`` may carry."""
    schemes = URL_SCHEMES.get(attribute)
    if schemes is None:
        return True
    lowered = value.strip().lower()
    if not lowered.startswith(schemes) or _NOT_IN_URL.search(value):
        return False
    if lowered.startswith("mailto:"):
        return len(lowered) > len("mailto:")
    rest = lowered.split("//", 1)[1]
    return bool(rest) and rest[0] not in "/\\"


def _filter(tag: str, attribute: str, value: str) -> str | None:
    if attribute in URL_SCHEMES:
        return value if url_allowed(attribute, value) else None
    if attribute in {"width", "height", "colspan", "rowspan", "start"}:
        return value if value and len(value) <= 5 and set(value) <= _DIGITS else None
    return value


_TAGS = set(TAGS)
_DROP = set(DROP_WITH_CONTENT - TAGS)
_ATTRIBUTES = {tag: set(names) for tag, names in ATTRIBUTES.items()}


# A combining long solidus overlay (U+0338) right after a tag's ``>``: a text node that begins
# with it. nh3 composes the two into one character (``>`` + U+0338 is NFC ``≯``), which eats the
# tag's end (``<p≯ word</p>``). Serialized markup escapes a ``>`` of text, so a raw one is a tag's.
_OVERLAY_AFTER_TAG = re.compile(">\u0338+")


def clean(markup: str, **allow: Any) -> str:
    """``nh3.clean`` of ``markup`` with ``allow``, an orphan overlay mark after a tag dropped first."""
    return nh3.clean(_OVERLAY_AFTER_TAG.sub(">", markup), **allow)


def sanitize(markup: str) -> str:
    """``markup`` reduced to the allowlist: the last step before ``body_html`` is stored or sent."""
    return clean(
        markup,
        tags=_TAGS,
        clean_content_tags=_DROP,
        attributes=_ATTRIBUTES,
        attribute_filter=_filter,
        url_schemes={"http", "https", "mailto"},
        strip_comments=True,
        link_rel=None,
        generic_attribute_prefixes=set(),
    )
