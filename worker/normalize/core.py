"""The normalization orchestrator: one raw input in, one :class:`Article` out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from worker.models import Article, Notice, Publisher, RawInput
from worker.normalize import hygiene, limits
from worker.normalize.cms import load_json_object, parse_cms
from worker.normalize.dates import parse_date
from worker.normalize.detect import remove_notices
from worker.normalize.draft import Draft
from worker.normalize.errors import NormalizeError
from worker.normalize.html import parse_html
from worker.normalize.identity import article_id, content_hash, fallback_key, id_prefix
from worker.normalize.image import lead_image
from worker.normalize.language import detect_language, normalize_tag
from worker.normalize.ninjs import parse_ninjs
from worker.normalize.sniff import is_ninjs
from worker.normalize.structure import finish
from worker.normalize.text import parse_text
from worker.normalize.urls import canonical_url, optional_canonical_url
from worker.publishers import resolve_publisher

_NO_BODY = {
    "text": "text: no article text found (only a headline and a byline)",
    "html": "html: no article text found in the page",
    "json": "json: the article body is empty",
    "ninjs": "ninjs: the item's body is empty",
}
# Hosts whose publisher is known without configuration (suffix match on the host name).
_KNOWN_HOSTS = {"rferl.org": "rferl"}


def normalize(
    raw: RawInput,
    notices: Sequence[Notice] = (),
    publishers: Sequence[Publisher] = (),
    received_at: datetime | None = None,
) -> Article:
    """Normalize one raw article; pure and deterministic. Raises :class:`NormalizeError`.

    ``received_at``: when the input arrived; ``published_at`` when neither the input nor the
    caller states one (never 1970). It is in neither the id nor the content hash, so an input
    sent again later is the same article, unchanged.

    1. Refuse an input with nothing in it.
    2. Extract a draft for the input's shape. Scraped text is cleaned line by line and its
       notices removed *before* its structure is read, since a notice may stand between the
       body and the headline; HTML goes through trafilatura, JSON through a pydantic model.
    3. Clean every text field (ftfy, NFC, forbidden and zero-width characters, spaces), drop
       repeated paragraphs and the headline repeated in the body.
    4. Remove the configured notices from HTML and JSON bodies (after cleaning, so quotes and
       spacing are already uniform).
    5. Fill what the body lacks from the caller's metadata; canonical URL, dates, language
       (detected offline when nobody said), source (inferred when nobody said), resolved to its
       publisher's id by name, alias or URL domain (``publishers``; an unknown source stays as is).
    6. Identity: the id from the source as given + guid/URL/title (so resolving a name to its
       publisher never changes an id already handed out), the hash over title, body and dates.
    7. Render body_text and body_html. A structured body (HTML pages, CMS markup) keeps its
       markup through the allowlist (``structure.finish``), which runs last; scraped text
       becomes one ``<p>`` per paragraph. The lead image: the source's own, else the body's
       first figure.
    8. Bound every field a source controls (``limits``): refused or cut, as documented there.
    """
    body = hygiene.strip_forbidden(raw.body)
    if not hygiene.has_text(body):
        raise NormalizeError(f"{raw.format}: input is empty")
    # The caller's metadata is checked even where the body makes it unnecessary.
    caller_url = canonical_url(raw.url) if raw.url and raw.url.strip() else None
    caller_date = _caller_date(raw.published_at)
    caller_embargo = _caller_date(raw.embargoed_until, "embargoed_until")
    caller_expiry = _caller_date(raw.expires_at, "expires_at")

    kind, draft, found = _extract(raw.format, body, notices, caller_url)

    title = hygiene.clean_text(draft.title)
    if not title:
        raise NormalizeError(f"{kind}: no headline found")
    figure = None
    if draft.html is not None:  # a structured body (HTML page, CMS markup)
        body_html, paragraphs, in_body, figure = finish(draft.html, title, notices)
        found = [*found, *(n for n in in_body if n not in found)]
    else:
        paragraphs = [
            p for p in hygiene.clean_paragraphs(draft.paragraphs) if p.casefold() != title.casefold()
        ]
        if kind != "text":
            paragraphs, found = remove_notices(paragraphs, notices)
        body_html = hygiene.paragraphs_to_html(paragraphs)
    if not paragraphs:
        raise NormalizeError(_NO_BODY[kind])

    url = _url(draft.url, kind != "json") or caller_url
    image = lead_image(draft.image, url, figure)
    stated_date = draft.published_at or caller_date
    published_at = stated_date or received_at
    given_source = _source(raw.source or draft.source, found, notices, url)
    body_text = "\n\n".join(paragraphs)
    key = (raw.guid or "").strip() or draft.guid or url or fallback_key(title, stated_date, body_text)
    article = Article(
        id=article_id(given_source, key),
        source=resolve_publisher(publishers, given_source, url) or given_source,
        url=url,
        title=title,
        authors=hygiene.clean_list(draft.authors),
        published_at=published_at,
        updated_at=draft.updated_at,
        language=_language(raw.language, draft.language, body_text),
        section=hygiene.clean_text(raw.section or draft.section or "") or None,
        tags=hygiene.clean_list(draft.tags),
        summary=hygiene.clean_text(draft.summary or "") or paragraphs[0],
        body_text=body_text,
        body_html=body_html,
        image=image,
        content_hash=content_hash(
            title,
            body_text,
            stated_date,
            draft.updated_at,
            body_html=body_html if draft.html is not None else None,
            image=image.model_dump() if image else None,
        ),
        detected_notices=found,
        restricted_regions=draft.restricted_regions,
        embargoed_until=draft.embargoed_until or caller_embargo,
        expires_at=draft.expires_at or caller_expiry,
        pub_status=draft.pub_status,
    )
    return limits.bound(article)  # every source-controlled field within its limit, or refused


def _extract(
    fmt: str, body: str, notices: Sequence[Notice], caller_url: str | None
) -> tuple[str, Draft, list[str]]:
    """``(the shape it was, the draft, notices found)``: a JSON object is ninjs by its shape
    (``sniff.is_ninjs``) whether it came as ``json`` or ``ninjs``, else CMS JSON."""
    if fmt == "html":
        draft = parse_html(body, caller_url, notices)
        return fmt, draft, list(draft.detected_notices)
    if fmt in ("json", "ninjs"):
        data = load_json_object(body)
        if fmt == "ninjs" or is_ninjs(data):
            return "ninjs", parse_ninjs(data, caller_url), []
        return fmt, parse_cms(data, caller_url), []
    lines = [line for line in map(hygiene.clean_text, hygiene.split_lines(body)) if line]
    lines, found = remove_notices(lines, notices)
    return fmt, parse_text(lines), found


def _url(value: str | None, lenient: bool) -> str | None:
    """The source's own URL: strict for CMS JSON (a stated field), lenient for page markup."""
    if not value:
        return None
    if lenient:
        return optional_canonical_url(value)
    try:
        return canonical_url(value)
    except NormalizeError as exc:
        raise NormalizeError(f"json: field 'url' has {value!r} (expected an absolute http(s) URL)") from exc


def _caller_date(value: str | None, name: str = "published_at") -> datetime | None:
    if not value or not value.strip():
        return None
    parsed = parse_date(value)
    if parsed is None:
        raise NormalizeError(f"{name}: {value!r} is not a date (expected ISO 8601 or RFC 2822)")
    return parsed


def _language(given: str | None, found: str | None, body_text: str) -> str:
    if given and not normalize_tag(given):
        raise NormalizeError(f"language: {given!r} is not a BCP 47 language tag (expected e.g. en or pt-BR)")
    return normalize_tag(given) or normalize_tag(found) or detect_language(body_text)


def _source(given: str | None, found: list[str], notices: Sequence[Notice], url: str | None) -> str:
    if given and given.strip():
        return id_prefix(given)
    publishers = {p for n in notices if n.id in found and len(n.publishers) == 1 for p in n.publishers}
    if len(publishers) == 1:
        return id_prefix(publishers.pop())
    host = (url or "").split("/")[2] if url else ""
    for suffix, publisher in _KNOWN_HOSTS.items():
        if host == suffix or host.endswith("." + suffix):
            return publisher
    return "unknown"
