"""An item as one audience sees it: content with its notices, ids, dates, order.

Shared by every format so that RSS, Atom and JSON Feed say the same thing.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from html import escape
from urllib.parse import quote

import pycountry

from worker.allowlist import sanitize
from worker.models import Article, AttachedNotice, AudienceArticle

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ITEM_ID_PREFIX = "urn:syndicate:article:"

# Everything outside the XML 1.0 ``Char`` production (control characters, lone surrogates, U+FFFE/F).
_NOT_XML_CHAR = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_COUNTRY = re.compile(r"[A-Za-z]{2}")
# RFC 3986 reserved and unreserved characters and ``%`` (escapes), but ``'``.
URL_SAFE = "/?#[]:@!$&()*+,;=-._~%"
_MORE = {"en": "More information", "ru": "Подробнее", "uk": "Докладніше"}


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids (the normalizer should have removed them)."""
    return _NOT_XML_CHAR.sub("", text)


def sanitized_body(article: Article) -> str:
    """The article's HTML through the same allowlist once more, a last line of defence before subscribers.

    This also drops any notice markup (asides, class and data attributes) the body may carry, so
    that the asides added here are the only ones in the item.
    """
    return _sanitized(article.body_html)


@functools.lru_cache(maxsize=2048)
def _sanitized(body_html: str) -> str:
    # Pure, and asked for the same body by every feed and format the item is in, on every render,
    # and by every event form: about 10 % of an ingest's CPU before it was remembered. 2,048
    # bodies of about 3 KB (in and out) bound it to about 12 MB per process.
    return sanitize(xml_safe(body_html))


def unique_notices(item: AudienceArticle) -> list[AttachedNotice]:
    """The item's notices, each id once, in the order attached."""
    seen: set[str] = set()
    notices: list[AttachedNotice] = []
    for notice in item.notices:
        if notice.id not in seen:
            seen.add(notice.id)
            notices.append(notice)
    return notices


def notice_html(notice: AttachedNotice) -> str:
    """One notice as one ``<aside class="geo-notice" ...>`` element, every value escaped."""
    text = escape(xml_safe(notice.text), quote=False)
    link = ""
    if notice.url:
        label = _MORE.get(notice.language.split("-")[0].lower(), _MORE["en"])
        link = f' <a href="{escape(xml_safe(notice.url))}">{escape(label, quote=False)}</a>'
    return (
        f'<aside class="geo-notice" data-notice="{escape(xml_safe(notice.id))}"'
        f' lang="{escape(xml_safe(notice.language))}"><p>{text}{link}</p></aside>'
    )


def notice_text(notice: AttachedNotice) -> str:
    text = xml_safe(notice.text)
    return f"{text} {xml_safe(notice.url)}" if notice.url else text


def placed(notices: Sequence[AttachedNotice], body: str, show: Callable[[AttachedNotice], str]) -> list[str]:
    """``body`` with each notice, as ``show`` renders it, where its ``placement`` puts it: the one
    place that decides (``start``: before the body, ``end``: after it)."""
    before = [show(n) for n in notices if n.placement == "start"]
    after = [show(n) for n in notices if n.placement == "end"]
    return [*before, body, *after]


def item_html(item: AudienceArticle) -> str:
    """The full HTML content: notices placed at the start or the end, each exactly once."""
    parts = placed(unique_notices(item), sanitized_body(item.article), notice_html)
    return "\n".join(part for part in parts if part)


def item_text(item: AudienceArticle) -> str:
    """The plain-text content: notices and body paragraphs separated by one blank line."""
    parts = placed(unique_notices(item), xml_safe(item.article.body_text).strip(), notice_text)
    return "\n\n".join(part for part in parts if part)


def item_summary(article: Article) -> str:
    """The article's plain-text summary, never empty: its own, else its first paragraph, else the title.

    Never empty because feedgen writes RSS ``content:encoded`` only when a description is set too.
    Feeds show ``summary_text`` (this plus the item's notices).
    """
    for candidate in (article.summary, article.body_text.strip().split("\n\n")[0], article.title):
        text = xml_safe(candidate).strip()
        if text:
            return text
    return article.id


def item_url(article: Article) -> str | None:
    """The article URL with anything a URL may not hold raw (``"<>'``, spaces, non-ASCII...)
    percent-encoded: the normalizer does so, this covers articles stored before it did."""
    if not article.url:
        return None
    return quote(xml_safe(article.url), safe=URL_SAFE)


def summary_text(item: AudienceArticle) -> str:
    """The summary every format shows (RSS ``description``, Atom ``summary``, JSON ``summary``).

    Many readers and list views show only the summary, so the item's notices stand in it too: their
    plain text (in the audience's language, as attached), each once, placed at the start or the end
    as in the full content, separated from the article's summary by one blank line.
    """
    parts = placed(unique_notices(item), item_summary(item.article), lambda n: xml_safe(n.text).strip())
    return "\n\n".join(part for part in parts if part)


def item_id(item: AudienceArticle) -> str:
    """The id of an item in every format (Atom id, RSS guid, JSON Feed id): one per audience.

    ``urn:syndicate:article:AUDIENCE:ARTICLE-ID``. The versions of one article for two audiences
    differ (notices), and readers that key items by id across feeds (newsboat) would merge them
    if they shared one. It depends on nothing but the audience and the article id, so it stays the
    same across renders, updates and archive pages. (Audience ids hold no ``:``.)
    """
    return f"{ITEM_ID_PREFIX}{item.audience}:{item.article.id}"


def utc(value: datetime) -> datetime:
    """Aware UTC without microseconds; naive values are taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0)


def published(article: Article) -> datetime | None:
    return utc(article.published_at) if article.published_at else None


def updated(article: Article) -> datetime:
    """When the item last changed: updated, else published, else the epoch (never the clock)."""
    value = article.updated_at or article.published_at
    return utc(value) if value else EPOCH


def feed_updated(items: Iterable[AudienceArticle]) -> datetime:
    """The newest date over the items, so that the same items always give the same bytes."""
    return max((updated(item.article) for item in items), default=EPOCH)


def ordered(items: Sequence[AudienceArticle]) -> list[AudienceArticle]:
    """Newest first by published date (else updated date); ties broken by article id.

    Sorting here makes the output independent of the order the caller happened to pass.
    """

    def key(item: AudienceArticle) -> tuple[float, str]:
        when = published(item.article) or updated(item.article)
        return (-when.timestamp(), item.article.id)

    return sorted(items, key=key)


def categories(article: Article) -> list[str]:
    """Section then tags, each once."""
    values = ([article.section] if article.section else []) + article.tags
    return list(dict.fromkeys(xml_safe(v).strip() for v in values if xml_safe(v).strip()))


def restricted_countries(article: Article) -> list[str]:
    """Lower-case ISO 3166-1 alpha-2 codes among ``restricted_regions`` (subdivisions left out), sorted."""
    codes = {
        code.lower()
        for code in article.restricted_regions
        if _COUNTRY.fullmatch(code) and pycountry.countries.get(alpha_2=code.upper()) is not None
    }
    return sorted(codes)
