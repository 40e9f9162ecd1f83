"""CMS JSON: one article object with the fields of CONTRACTS section 4 that a CMS knows."""

from __future__ import annotations

import html
import json
import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from worker.normalize import jsontext
from worker.normalize.dates import parse_date
from worker.normalize.draft import Draft
from worker.normalize.errors import NormalizeError
from worker.normalize.links import absolute_url
from worker.normalize.markup import parse_fragment
from worker.normalize.paragraphs import html_to_paragraphs
from worker.normalize.prepare import prepare
from worker.normalize.sniff import looks_like_html
from worker.normalize.text import split_authors

_REGION = re.compile(r"^[A-Z]{2}(?:-[A-Z0-9]{1,3})?$")
_JSON_KINDS: dict[type, str] = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
_BODY_FIELDS = ("body_html", "body_text", "body", "content")


class CmsArticle(BaseModel):
    """The CMS document as accepted: unknown fields are ignored, known ones are type-checked."""

    model_config = ConfigDict(extra="ignore", strict=False)

    id: str | int | None = None
    guid: str | int | None = None
    source: str | None = None
    publisher: str | None = None
    url: str | None = None
    title: str
    authors: list[str | dict[str, Any]] | str | None = None
    author: str | None = None
    published_at: str | int | float | None = None
    updated_at: str | int | float | None = None
    language: str | None = None
    section: str | None = None
    tags: list[str] | str | None = None
    summary: str | None = None
    body_html: str | None = None
    body_text: str | None = None
    body: str | None = None
    content: str | None = None
    image: str | dict[str, Any] | None = None
    restricted_regions: list[str] | str | None = None
    embargoed_until: str | int | float | None = None
    expires_at: str | int | float | None = None
    pub_status: str | None = None


def load_json_object(document: str) -> dict[str, Any]:
    """The JSON object in ``document``; :class:`NormalizeError` for broken JSON or another type."""
    try:
        data = jsontext.loads(document)
    except json.JSONDecodeError as exc:
        raise NormalizeError(
            f"json: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    except RecursionError as exc:
        raise NormalizeError("json: invalid JSON: nested too deeply") from exc
    if not isinstance(data, dict):
        kind = _JSON_KINDS.get(type(data), "a number")
        raise NormalizeError(f"json: expected a JSON object, got {kind}")
    return data


def parse_cms(document: str | dict[str, Any], caller_url: str | None = None) -> Draft:
    """The article of a CMS JSON document (its text, or the object already loaded); relative URLs
    resolve against its ``url`` (else ``caller_url``)."""
    data = document if isinstance(document, dict) else load_json_object(document)
    try:
        cms = CmsArticle.model_validate(data)
    except ValidationError as exc:
        raise NormalizeError(_describe(exc, data)) from exc
    title = html.unescape(cms.title)
    if not title.strip():
        raise NormalizeError("json: field 'title' is empty")
    guid = cms.guid if cms.guid is not None else cms.id
    base = absolute_url(cms.url, None) if cms.url else None
    base = base or (absolute_url(caller_url, None) if caller_url else None)
    markup = _markup(cms)
    tree = None
    if markup is not None:
        tree = parse_fragment(markup)
        prepare(tree, base)
    return Draft(
        title=title,
        paragraphs=[] if tree is not None else _body(cms),
        html=tree,
        image=_image(cms.image, base),
        authors=_authors(cms),
        published_at=_date(cms.published_at, "published_at"),
        updated_at=_date(cms.updated_at, "updated_at"),
        section=_plain(cms.section),
        tags=[html.unescape(t) for t in _as_list(cms.tags)],
        summary=" ".join(text_paragraphs(cms.summary)) or None,
        url=cms.url,
        guid=str(guid).strip() or None if guid is not None else None,
        source=cms.source or cms.publisher,
        language=cms.language,
        restricted_regions=_regions(cms.restricted_regions),
        embargoed_until=_date(cms.embargoed_until, "embargoed_until"),
        expires_at=_date(cms.expires_at, "expires_at"),
        pub_status=_pub_status(cms.pub_status),
    )


_EXPECTED = {
    "id": "a string or a number",
    "guid": "a string or a number",
    "authors": "a list of names or one string",
    "tags": "a list of strings or one string",
    "restricted_regions": "a list of ISO 3166 codes or one string",
    "published_at": "an ISO 8601 date string or Unix seconds",
    "updated_at": "an ISO 8601 date string or Unix seconds",
    "embargoed_until": "an ISO 8601 date string or Unix seconds",
    "expires_at": "an ISO 8601 date string or Unix seconds",
    "image": "an image URL or an object with 'url', 'alt', 'caption', 'credit', 'width', 'height'",
}


def _describe(exc: ValidationError, data: dict[str, Any]) -> str:
    error = exc.errors()[0]
    field = str(error["loc"][0])
    if error["type"] == "missing":
        return f"json: field {field!r} is missing"
    value = repr(data.get(field))
    value = value if len(value) <= 60 else value[:57] + "..."
    return f"json: field {field!r} has {value} (expected {_EXPECTED.get(field, 'a string')})"


def _plain(value: str | None) -> str | None:
    return html.unescape(value) if value else None


def _as_list(value: list[str] | str | None) -> list[str]:
    if isinstance(value, str):
        return [part for part in re.split(r"\s*,\s*", value) if part]
    return list(value or [])


def _authors(cms: CmsArticle) -> list[str]:
    value = cms.authors if cms.authors is not None else cms.author
    if isinstance(value, str):
        return split_authors(html.unescape(value))
    names = [item if isinstance(item, str) else str(item.get("name") or "") for item in value or []]
    return [html.unescape(name) for name in names if name]


def _date(value: str | int | float | None, field: str) -> datetime | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    parsed = parse_date(value)
    if parsed is None:
        raise NormalizeError(f"json: field {field!r} has {value!r} (expected an ISO 8601 or RFC 2822 date)")
    return parsed


_PUB_STATUSES = ("usable", "withheld", "canceled")


def _pub_status(value: str | None) -> str:
    if value is None or not value.strip():
        return "usable"
    status = value.strip().lower()
    if status not in _PUB_STATUSES:
        raise NormalizeError(
            f"json: field 'pub_status' has {value!r} (expected one of {', '.join(_PUB_STATUSES)})"
        )
    return status


def text_paragraphs(value: str | None) -> list[str]:
    """Paragraphs of a text field: HTML when it looks like markup, else blank-line separated text."""
    if not value or not value.strip():
        return []
    if looks_like_html(value):
        return html_to_paragraphs(value)
    text = html.unescape(value).replace("\r\n", "\n").replace("\r", "\n")
    blocks = re.split(r"\n\s*\n", text)
    if len(blocks) == 1:
        return [line for line in text.split("\n") if line.strip()]
    return [" ".join(block.split()) for block in blocks if block.strip()]


def _body(cms: CmsArticle) -> list[str]:
    present = [getattr(cms, name) for name in _BODY_FIELDS if getattr(cms, name) is not None]
    if not present:
        raise NormalizeError("json: no article body (expected 'body_html', 'body_text', 'body' or 'content')")
    if cms.body_html and cms.body_html.strip():
        return html_to_paragraphs(cms.body_html)
    return next((p for p in map(text_paragraphs, present) if p), [])


def _markup(cms: CmsArticle) -> str | None:
    """The body as HTML when the CMS gives markup: ``body_html``, else a text field that looks like HTML."""
    if cms.body_html and cms.body_html.strip():
        return cms.body_html
    _body(cms)  # the error for a document without any body field
    value = next((getattr(cms, n) for n in _BODY_FIELDS[1:] if (getattr(cms, n) or "").strip()), None)
    return value if value is not None and looks_like_html(value) else None


def _image(value: str | dict[str, Any] | None, base: str | None) -> dict[str, Any] | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    data = {"url": value} if isinstance(value, str) else dict(value)
    url = data.get("url")
    if not isinstance(url, str) or absolute_url(url, base, "src") is None:
        shown = repr(url if isinstance(value, dict) else value)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise NormalizeError(
            f"json: field 'image' has {shown} (expected an http(s) image URL, or an object with one in 'url')"
        )
    return data


def _regions(value: list[str] | str | None) -> list[str]:
    codes = value.replace(",", " ").split() if isinstance(value, str) else list(value or [])
    out: list[str] = []
    for code in codes:
        upper = code.strip().upper()
        if not _REGION.match(upper):
            raise NormalizeError(
                f"json: field 'restricted_regions' has {code!r} (expected ISO 3166 codes like RU or UA-43)"
            )
        if upper not in out:
            out.append(upper)
    return out
