"""Reading a ninjs item's fields, whatever its version: both spellings, its texts, typed values.

``field`` finds a name in the spelling of 3.x (camelCase) or of 1.x/2.x (lower case); ``texts``
reads the ``headlines``/``bodies``/``descriptions`` arrays of 2.x/3.x and the flat 1.x fields
(``headline``, ``body_html``, ...) as ``(role, value, is_html)`` and ``pick`` chooses one by role;
``string``, ``date``, ``dates`` and ``status`` read the scalar fields, ``objects`` a list (or a
mapping) of objects. A value of the wrong type is a :class:`NormalizeError` naming the field.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from worker.models import PubStatus
from worker.normalize.cms import text_paragraphs
from worker.normalize.dates import parse_date
from worker.normalize.errors import NormalizeError
from worker.normalize.sniff import looks_like_html

_HTML_TYPES = ("text/html", "application/xhtml+xml", "application/xhtml", "text/xhtml")
_STATUSES: dict[str, PubStatus] = {
    "usable": "usable",
    "withheld": "withheld",
    "canceled": "canceled",
    "cancelled": "canceled",
}


def field(doc: dict[str, Any], name: str) -> Any:
    """``doc[name]`` in the spelling of 3.x (camelCase) or of 1.x/2.x (lower case)."""
    if name in doc:
        return doc[name]
    return doc.get(name.lower())


# A text: (role, value, is_html).
Text = tuple[str, str, bool]


def texts(doc: dict[str, Any], array: str, flat: Iterable[str]) -> list[Text]:
    """Every ``{role, contentType, value}`` of ``array`` (2.x/3.x), then the 1.x flat fields."""
    out: list[Text] = []
    items = field(doc, array)
    if isinstance(items, str):  # one text where the schema has an array of them
        items = [items]
    if items is not None and not isinstance(items, list):
        raise NormalizeError(f"ninjs: field {array!r} has {shown(items)} (expected an array of objects)")
    for i, item in enumerate(items or []):
        if isinstance(item, str):
            item = {"value": item}
        if not isinstance(item, dict):
            raise NormalizeError(f"ninjs: {array}[{i}] has {shown(item)} (expected an object with 'value')")
        value = item.get("value")
        if not isinstance(value, str):
            raise NormalizeError(f"ninjs: {array}[{i}].value has {shown(value)} (expected a string)")
        role = str(item.get("role") or "").strip().lower()
        kind = str(field(item, "contentType") or "").split(";")[0].strip().lower()
        markup = kind in _HTML_TYPES or "html" in role or (not kind and looks_like_html(value))
        out.append((role, value, markup))
    for name in flat:
        value = doc.get(name)
        if isinstance(value, str) and value.strip():
            markup = name.endswith(("_html", "_html5", "_xhtml")) or looks_like_html(value)
            out.append((name.split("_")[0], value, markup))
    return [t for t in out if t[1].strip()]


def pick(texts: list[Text], roles: tuple[str, ...], *, markup_first: bool = False) -> Text | None:
    """The text for ``roles`` (in that order of preference; HTML before plain text within a role,
    or before any plain text with ``markup_first``); else the first."""
    if not texts:
        return None

    def rank(t: Text) -> tuple[int, int]:
        role = roles.index(t[0]) if t[0] in roles else len(roles)
        plain = 0 if t[2] else 1
        return (plain, role) if markup_first else (role, plain)

    return min(texts, key=rank)


def plain_paragraphs(text: Text) -> list[str]:
    return text_paragraphs(text[1])


def string(doc: dict[str, Any], name: str) -> str | None:
    value = field(doc, name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise NormalizeError(f"ninjs: field {name!r} has {shown(value)} (expected a string)")
    return value.strip() or None


def date(doc: dict[str, Any], name: str) -> datetime | None:
    value = field(doc, name)
    if value is None or value is False or (isinstance(value, str) and not value.strip()):
        return None  # absent, empty, or (some 1.x feeds) ``"embargoed": false``
    parsed = parse_date(value)
    if parsed is None:
        raise NormalizeError(
            f"ninjs: field {name!r} has {shown(value)}"
            " (expected an ISO 8601 date-time such as 2024-05-01T12:00:00Z)"
        )
    return parsed


def dates(doc: dict[str, Any]) -> tuple[datetime | None, datetime | None]:
    """``(published_at, updated_at)``: first created (else this version, else the content), and
    this version's time when it is later."""
    version = date(doc, "versionCreated")
    first = date(doc, "firstCreated") or version or date(doc, "contentCreated")
    return first, version if version and first and version > first else None


def status(doc: dict[str, Any]) -> PubStatus:
    value = field(doc, "pubStatus")
    if value is None or value == "":
        return "usable"
    key = str(value).strip().lower().removeprefix("stat:")
    if key not in _STATUSES:
        raise NormalizeError(
            f"ninjs: field 'pubStatus' has {shown(value)} (expected 'usable', 'withheld' or 'canceled')"
        )
    return _STATUSES[key]


def objects(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        value = list(value.values())
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
