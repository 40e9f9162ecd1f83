"""feedgen extensions: geo notices, media:restriction, and feed links feedgen leaves out of RSS.

Registered on a ``FeedGenerator`` with ``register_extension``; entry instances are then reached as
``entry.geonotice``, ``entry.restriction``, and the feed one as ``fg.feedlinks``.
"""

from __future__ import annotations

from lxml import etree

from feeds.content import xml_safe
from worker.models import AttachedNotice, LeadImage

GEO_NS = "https://syndicate.rferl.dev/ns/geo/1.0"
# Not "geo": feed validators tie that prefix to the W3C WGS84 namespace and warn on any other use.
GEO_PREFIX = "geonotice"
MEDIA_NS = "http://search.yahoo.com/mrss/"
FH_NS = "http://purl.org/syndication/history/1.0"
ATOM_NS = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


class _Extension:
    """The interface feedgen calls (same as ``feedgen.ext.base.BaseExtension``)."""

    def extend_ns(self) -> dict[str, str]:
        return {}

    def extend_rss(self, element: etree._Element) -> etree._Element:
        return element

    def extend_atom(self, element: etree._Element) -> etree._Element:
        return element


class GeoNoticeExtension(_Extension):
    def extend_ns(self) -> dict[str, str]:
        return {GEO_PREFIX: GEO_NS}


class GeoNoticeEntryExtension(_Extension):
    """One ``<geonotice:notice id= xml:lang= href= placement=>text</geonotice:notice>`` per notice."""

    def __init__(self) -> None:
        self.notices: list[AttachedNotice] = []

    def extend_atom(self, element: etree._Element) -> etree._Element:
        for notice in self.notices:
            node = etree.SubElement(element, f"{{{GEO_NS}}}notice")
            node.set("id", xml_safe(notice.id))
            node.set(XML_LANG, xml_safe(notice.language))
            if notice.url:
                node.set("href", xml_safe(notice.url))
            node.set("placement", notice.placement)
            node.text = xml_safe(notice.text)
        return element

    def extend_rss(self, element: etree._Element) -> etree._Element:
        return self.extend_atom(element)


class RestrictionExtension(_Extension):
    def extend_ns(self) -> dict[str, str]:
        return {"media": MEDIA_NS}


class RestrictionEntryExtension(_Extension):
    """``<media:restriction relationship="deny" type="country">ru ua</media:restriction>``."""

    def __init__(self) -> None:
        self.deny_countries: list[str] = []

    def extend_atom(self, element: etree._Element) -> etree._Element:
        if self.deny_countries:
            node = etree.SubElement(element, f"{{{MEDIA_NS}}}restriction")
            node.set("relationship", "deny")
            node.set("type", "country")
            node.text = " ".join(self.deny_countries)
        return element

    def extend_rss(self, element: etree._Element) -> etree._Element:
        return self.extend_atom(element)


class MediaExtension(_Extension):
    pass  # the media namespace is declared by RestrictionExtension


class MediaEntryExtension(_Extension):
    """The lead image: in RSS as Media RSS, ``media:content`` (with its caption and credit) and
    ``media:thumbnail``; in Atom as ``<link rel="enclosure" href type>`` (written here: feedgen 1.0
    drops the ``rel`` and ``type`` of entry links).
    """

    def __init__(self) -> None:
        self.image: LeadImage | None = None

    def extend_atom(self, element: etree._Element) -> etree._Element:
        if self.image is not None:
            # feedgen builds Atom elements unqualified under a default-namespace root: so does this one
            link = etree.SubElement(element, "link", href=xml_safe(self.image.url), rel="enclosure")
            if self.image.type:
                link.set("type", self.image.type)
        return element

    def extend_rss(self, element: etree._Element) -> etree._Element:
        image = self.image
        if image is None:
            return element
        node = etree.SubElement(element, f"{{{MEDIA_NS}}}content", url=xml_safe(image.url), medium="image")
        size = {k: str(v) for k, v in (("width", image.width), ("height", image.height)) if v}
        if image.type:
            node.set("type", image.type)
        for key, value in size.items():
            node.set(key, value)
        description = image.caption or image.alt
        if description:
            text = etree.SubElement(node, f"{{{MEDIA_NS}}}description", type="plain")
            text.text = xml_safe(description)
        if image.credit:
            etree.SubElement(node, f"{{{MEDIA_NS}}}credit").text = xml_safe(image.credit)
        etree.SubElement(element, f"{{{MEDIA_NS}}}thumbnail", url=xml_safe(image.url), **size)
        return element


class FeedLinksExtension(_Extension):
    """Feed-level links RSS lacks in feedgen (it writes only rel=self) and RFC 5005's ``fh:archive``.

    ``links`` are ``(rel, href)`` pairs written as ``atom:link`` into the RSS channel; Atom gets its
    links from ``FeedGenerator.link`` and only ``fh:archive`` from here.
    """

    def __init__(self) -> None:
        self.links: list[tuple[str, str]] = []
        self.archive = False

    def extend_ns(self) -> dict[str, str]:
        return {"fh": FH_NS} if self.archive else {}

    def _archive(self, parent: etree._Element) -> None:
        if self.archive:
            etree.SubElement(parent, f"{{{FH_NS}}}archive")

    def extend_rss(self, element: etree._Element) -> etree._Element:
        channel = element[0]
        for rel, href in self.links:
            etree.SubElement(channel, f"{{{ATOM_NS}}}link", href=href, rel=rel)
        self._archive(channel)
        return element

    def extend_atom(self, element: etree._Element) -> etree._Element:
        self._archive(element)
        return element


class AtomUpdatedExtension(_Extension):
    """Nothing at feed level: feedgen's RSS already declares the Atom namespace."""


class AtomUpdatedEntryExtension(_Extension):
    """``<atom:updated>`` in an RSS item: when it last changed (RSS has only ``pubDate``)."""

    def __init__(self) -> None:
        self.updated: str | None = None

    def extend_rss(self, element: etree._Element) -> etree._Element:
        if self.updated:
            etree.SubElement(element, f"{{{ATOM_NS}}}updated").text = self.updated
        return element


class DcCreatorExtension(_Extension):
    def extend_ns(self) -> dict[str, str]:
        return {"dc": "http://purl.org/dc/elements/1.1/"}


class DcCreatorEntryExtension(_Extension):
    """``dc:creator`` per author: RSS ``<author>`` would need an e-mail address."""

    def __init__(self) -> None:
        self.creators: list[str] = []

    def extend_rss(self, element: etree._Element) -> etree._Element:
        for name in self.creators:
            etree.SubElement(element, "{http://purl.org/dc/elements/1.1/}creator").text = xml_safe(name)
        return element
