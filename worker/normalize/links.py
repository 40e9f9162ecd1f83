"""URLs inside an article body: made absolute, tracking parameters removed, unsafe schemes refused."""

from __future__ import annotations

from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

from lxml import etree

from worker.allowlist import url_allowed
from worker.normalize.urls import is_tracking_param

# An absolute http(s) URL with a host and no ``;`` (urljoin's params) needs no joining: urljoin
# would return it, or the same URL rebuilt from the very parts ``urlsplit`` finds in it.
_WEB = ("http", "https")
_LAZY_SOURCES = ("data-src", "data-original", "data-lazy-src", "data-url")


def absolute_url(value: str | None, base: str | None, attribute: str = "href") -> str | None:
    """``value`` resolved against ``base`` and cleaned; ``None`` unless the result may stand in ``attribute``.

    ``http``/``https`` URLs lose their tracking parameters (``utm_*``, ``fbclid``...) and keep
    everything else, fragment included; ``mailto:`` stays as it is (links only).
    """
    raw = "".join((value or "").split()) if value and "\n" in value else (value or "").strip()
    if not raw:
        return None
    if raw.startswith("//"):
        raw = "https:" + raw
    try:
        resolved = raw
        parts = urlsplit(raw)
        if base:
            if parts.scheme in _WEB and parts.netloc and ";" not in raw:
                urlsplit(base)  # (urljoin raises on a bad base)
            else:
                resolved = urljoin(base, raw)
                parts = urlsplit(resolved)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme == "mailto":
        return resolved if url_allowed(attribute, resolved) else None
    if scheme not in {"http", "https"} or not parts.hostname:
        return None
    pairs = [p for p in parts.query.split("&") if p and not is_tracking_param(unquote_plus(p.split("=")[0]))]
    netloc = parts.netloc.lower() if "@" not in parts.netloc else parts.netloc.rsplit("@", 1)[1].lower()
    cleaned = urlunsplit((scheme, netloc, parts.path or "/", "&".join(pairs), parts.fragment))
    return cleaned if url_allowed(attribute, cleaned) else None


def image_source(img: etree._Element) -> str | None:
    """The image's own address: ``src``, else a lazy-loading attribute, else the first ``srcset`` entry."""
    src = (img.get("src") or "").strip()
    if src and not src.lower().startswith("data:"):
        return src
    for name in _LAZY_SOURCES:
        value = (img.get(name) or "").strip()
        if value and not value.lower().startswith("data:"):
            return value
    srcset = (img.get("srcset") or img.get("data-srcset") or "").strip()
    if srcset:
        return srcset.split(",")[0].split()[0]
    return None


def is_pixel(img: etree._Element) -> bool:
    """A tracking pixel: a declared width or height of at most one pixel."""
    for name in ("width", "height"):
        value = (img.get(name) or "").strip().removesuffix("px")
        if value.isdigit() and int(value) <= 1:
            return True
    return False


def base_url(tree: etree._Element, document_url: str | None) -> str | None:
    """The URL relative links of a page resolve against: its ``<base href>``, else the document's."""
    for base in tree.iter("base"):
        href = (base.get("href") or "").strip()
        if href:
            resolved = absolute_url(href, document_url)
            if resolved and not resolved.startswith("mailto:"):
                return resolved
    return document_url
