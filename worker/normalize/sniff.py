"""Which input shape a body is (for ``--format auto``): page text, HTML, CMS JSON or ninjs."""

from __future__ import annotations

import json
import re
from typing import Any

from worker.models import SourceFormat

_MARKUP = re.compile(
    r"<(?:!doctype\s+html|html|head|body|article|main|section|div|p|h[1-6]|span|a|br|ul|ol|li|table|meta"
    r"|title|script|style|blockquote|figure|img|em|strong|b|i)\b[^<>]*>|</[a-z][a-z0-9]*\s*>",
    re.IGNORECASE,
)


def looks_like_html(text: str) -> bool:
    """True when ``text`` holds at least one HTML tag."""
    return _MARKUP.search(text) is not None


# Fields only an IPTC ninjs item has (any version: 1.x/2.x lower case, 3.x camelCase).
_NINJS_ONLY = frozenset({"headlines", "bodies"})
_NINJS_ITEM = frozenset(
    {"headline", "headlines", "bodies", "body_html", "body_text", "body_xhtml", "descriptions",
     "description_text", "description_html", "versioncreated", "versionCreated", "pubstatus", "pubStatus"}
)  # fmt: skip
_NINJS_DATES = frozenset({"versioncreated", "versionCreated", "firstcreated", "firstCreated", "pubstatus"})


def is_ninjs(data: dict[str, Any]) -> bool:
    """True when a JSON object is an IPTC ninjs item rather than a CMS article.

    By its shape: ``headlines``/``bodies`` (never CMS fields), ``uri`` with an item field, a
    ``$schema`` or ``standard`` naming ninjs, or (Superdesk) a ``headline`` with ninjs dates and
    no CMS ``title``.
    """
    if _NINJS_ONLY & data.keys():
        return True
    standard = data.get("standard")
    marks = [data.get("$schema"), standard.get("name") if isinstance(standard, dict) else None]
    if any(isinstance(m, str) and "ninjs" in m.lower() for m in marks):
        return True
    if "uri" in data and _NINJS_ITEM & data.keys():
        return True
    return "headline" in data and "title" not in data and bool(_NINJS_DATES & data.keys())


def detect_format(body: str) -> SourceFormat:
    """``ninjs`` for a ninjs item, ``json`` for another JSON document, ``html`` for markup, else ``text``.

    A body that starts with ``{`` counts as JSON even when it does not parse, so the user
    learns where the JSON is broken instead of being told the text has no headline. A body
    starting with ``[`` is JSON only if it parses (normalize then says it is not an object).
    """
    head = body.lstrip("\ufeff \t\r\n")
    if head.startswith("{"):
        try:
            data = json.loads(head)
        except (ValueError, RecursionError):
            return "json"
        return "ninjs" if isinstance(data, dict) and is_ninjs(data) else "json"
    if head.startswith("["):
        try:
            json.loads(head)
        except (ValueError, RecursionError):  # ValueError: also an integer of 5,000 digits
            pass
        else:
            return "json"
    return "html" if looks_like_html(head[:100_000]) else "text"
