"""Which of the three input shapes a body is (for ``--format auto``)."""

from __future__ import annotations

import json
import re

from worker.models import SourceFormat

_MARKUP = re.compile(
    r"<(?:!doctype\s+html|html|head|body|article|main|section|div|p|h[1-6]|span|a|br|ul|ol|li|table|meta"
    r"|title|script|style|blockquote|figure|img|em|strong|b|i)\b[^<>]*>|</[a-z][a-z0-9]*\s*>",
    re.IGNORECASE,
)


def looks_like_html(text: str) -> bool:
    """True when ``text`` holds at least one HTML tag."""
    return _MARKUP.search(text) is not None


def detect_format(body: str) -> SourceFormat:
    """``json`` for a JSON document, ``html`` for markup, else ``text``.

    A body that starts with ``{`` counts as JSON even when it does not parse, so the user
    learns where the JSON is broken instead of being told the text has no headline. A body
    starting with ``[`` is JSON only if it parses (normalize then says it is not an object).
    """
    head = body.lstrip("\ufeff \t\r\n")
    if head.startswith("{"):
        return "json"
    if head.startswith("["):
        try:
            json.loads(head)
        except (ValueError, RecursionError):  # ValueError: also an integer of 5,000 digits
            pass
        else:
            return "json"
    return "html" if looks_like_html(head[:100_000]) else "text"
