"""The two names that must agree everywhere they are compared: a section's slug and a region code.

``section_slug`` is what feed keys and feed URLs are made of, what a notice's ``sections`` and a
subscription's ``sections`` are matched by: one function, so that an article in section "ﬁnance"
(a ligature) lands in feed ``finance`` *and* meets a notice written for section "Finance".
``region_code`` is the one spelling of an ISO 3166 code (configuration, notices, geo headers).
"""

from __future__ import annotations

import re
import unicodedata

_SLUG_SEPARATORS = re.compile(r"[\W_]+")


def section_slug(section: str) -> str:
    """The URL form of a section: NFKC, lower case, runs of other characters as ``-``, no dashes at
    the ends. Letters and digits of any script are kept (``Afghanistan/Pakistan`` ->
    ``afghanistan-pakistan``, ``ﬁnance`` -> ``finance``)."""
    text = unicodedata.normalize("NFKC", section).lower()
    return _SLUG_SEPARATORS.sub("-", text).strip("-")


def region_code(code: str) -> str:
    """An ISO 3166-1/-2 code as compared everywhere: no surrounding spaces, upper case (``ua-43`` ->
    ``UA-43``)."""
    return code.strip().upper()
