"""RSS 2.0 and Atom 1.0 through feedgen, with its traps handled in one place.

1. Dates: every date is aware UTC; feed ``updated``/``lastBuildDate`` is the newest item date, never the
   clock (feedgen defaults both, and each entry's ``updated``, to now).
2. Links: RSS's channel ``<link>`` is the LAST ``link()`` added, so rel=alternate goes last; feedgen
   writes only rel=self as ``atom:link`` in RSS, so hubs and archive links come from an extension.
3. Order: ``add_entry`` prepends by default; entries are appended in the order of ``ordered()``.
4. Content: RSS ``content:encoded`` is written only when a description is set too, so the summary is
   never empty (else the content, notices and all, would become the description); no CDATA anywhere,
   lxml escapes all text.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Literal

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator

from feeds import content, formats
from feeds.ext import (
    AtomUpdatedEntryExtension,
    AtomUpdatedExtension,
    DcCreatorEntryExtension,
    DcCreatorExtension,
    FeedLinksExtension,
    GeoNoticeEntryExtension,
    GeoNoticeExtension,
    MediaEntryExtension,
    MediaExtension,
    RestrictionEntryExtension,
    RestrictionExtension,
)
from feeds.meta import GENERATOR, FeedMeta
from worker.models import AudienceArticle, iso_utc

XmlFormat = Literal["rss", "atom"]
# Same origin as the feed (browsers apply only a same-origin stylesheet), so a relative path.
STYLESHEET_PATH = "/assets/feed.xsl"
STYLESHEET_FILE = Path(__file__).with_name("feed.xsl")
STYLESHEET_PI = f'<?xml-stylesheet type="text/xsl" href="{STYLESHEET_PATH}"?>'.encode()


def _archive_links(meta: FeedMeta) -> list[tuple[str, str]]:
    pairs = [
        ("prev-archive", meta.prev_archive_url),
        ("next-archive", meta.next_archive_url),
        ("current", meta.current_url),
    ]
    return [(rel, href) for rel, href in pairs if href]


def _generator(fmt: XmlFormat, meta: FeedMeta, newest_first: Sequence[AudienceArticle]) -> FeedGenerator:
    fg = FeedGenerator()
    # Extensions before entries: feedgen copies them onto entries as they are added.
    fg.register_extension("feedlinks", FeedLinksExtension, None)
    fg.register_extension("geonotice", GeoNoticeExtension, GeoNoticeEntryExtension)
    fg.register_extension("restriction", RestrictionExtension, RestrictionEntryExtension)
    fg.register_extension("dccreator", DcCreatorExtension, DcCreatorEntryExtension, atom=False)
    fg.register_extension("atomupdated", AtomUpdatedExtension, AtomUpdatedEntryExtension, atom=False)
    fg.register_extension("leadimage", MediaExtension, MediaEntryExtension)

    fg.id(meta.feed_id)
    fg.title(content.xml_safe(meta.title))
    fg.subtitle(content.xml_safe(meta.subtitle))
    fg.language(meta.language)
    fg.generator(GENERATOR)
    fg.author({"name": content.xml_safe(meta.author_name)})
    fg.ttl(meta.ttl)
    if meta.rights:
        fg.rights(content.xml_safe(meta.rights))
    fg.updated(content.feed_updated(newest_first))

    extra = [("hub", hub) for hub in meta.hubs] + _archive_links(meta)
    fg.link(href=meta.url(fmt), rel="self", type=formats.get(fmt).mime)
    if fmt == "atom":
        for rel, href in extra:
            fg.link(href=href, rel=rel)
    else:
        fg.feedlinks.links = extra
    fg.feedlinks.archive = meta.archive
    fg.link(href=meta.home_url, rel="alternate", type="text/html")  # last: the RSS channel <link>
    return fg


def _entry(fmt: XmlFormat, item: AudienceArticle) -> FeedEntry:
    article = item.article
    fe = FeedEntry()
    fe.id(content.item_id(item))  # also the RSS guid, isPermaLink="false"
    fe.title(content.xml_safe(article.title) or article.id)
    url = content.item_url(article)
    if url:
        fe.link(href=url, rel="alternate", type="text/html")
    # One call each: feedgen rebuilds its whole RSS list on every call (quadratic in the count).
    authors = [{"name": content.xml_safe(name)} for name in article.authors]
    if authors:
        fe.author(authors)  # no e-mail: feedgen writes no RSS <author>
    terms = [{"term": term} for term in content.categories(article)]
    if terms:
        fe.category(terms)
    published = content.published(article)
    if published is not None:
        fe.published(published)
    fe.updated(content.updated(article))
    fe.content(content.item_html(item), type="html")
    # The summary carries the notices' plain text too. RSS readers take <description> as HTML:
    # escape the plain text.
    summary = content.summary_text(item)
    if fmt == "rss":
        fe.description(escape(summary, quote=False), isSummary=True)
    else:
        fe.summary(summary)
    return fe


def build(fmt: XmlFormat, meta: FeedMeta, items: Sequence[AudienceArticle]) -> FeedGenerator:
    """A FeedGenerator holding ``items`` newest first, ready for ``rss_str``/``atom_str``."""
    newest_first = content.ordered(items)
    fg = _generator(fmt, meta, newest_first)
    for item in newest_first:
        fe = fg.add_entry(_entry(fmt, item), order="append")
        fe.geonotice.notices = content.unique_notices(item)
        fe.restriction.deny_countries = content.restricted_countries(item.article)
        fe.dccreator.creators = list(item.article.authors)
        fe.atomupdated.updated = iso_utc(content.updated(item.article))
        fe.leadimage.image = item.article.image
    return fg


def render_xml(fmt: XmlFormat, meta: FeedMeta, items: Sequence[AudienceArticle]) -> bytes:
    fg = build(fmt, meta, items)
    if fmt == "rss":
        return with_stylesheet(fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True))
    return with_stylesheet(fg.atom_str(pretty=True, encoding="UTF-8", xml_declaration=True))


def with_stylesheet(document: bytes) -> bytes:
    """``document`` with the ``<?xml-stylesheet?>`` that makes a browser show it as a page
    (``feeds/feed.xsl``, served at ``STYLESHEET_PATH``), right after the XML declaration."""
    declaration, newline, rest = document.partition(b"\n")
    return declaration + newline + STYLESHEET_PI + b"\n" + rest
