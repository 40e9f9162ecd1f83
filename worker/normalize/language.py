"""Language tags: clean the ones sources give, detect the missing ones offline (py3langid)."""

from __future__ import annotations

import re

_SUBTAG = re.compile(r"^[A-Za-z0-9]{1,8}$")
_PRIMARY = re.compile(r"^[A-Za-z]{2,3}$")
UNDETERMINED = "und"


def normalize_tag(tag: str | None) -> str | None:
    """A BCP 47 tag with the usual casing (``en``, ``pt-BR``, ``sr-Latn``), or ``None`` if invalid."""
    if not tag:
        return None
    parts = re.split(r"[-_]", tag.strip())
    if not _PRIMARY.match(parts[0]) or not all(_SUBTAG.match(p) for p in parts[1:]):
        return None
    out = [parts[0].lower()]
    for part in parts[1:]:
        if len(part) == 4 and part.isalpha():
            out.append(part.title())
        elif (len(part) == 2 and part.isalpha()) or (len(part) == 3 and part.isdigit()):
            out.append(part.upper())
        else:
            out.append(part.lower())
    return "-".join(out)


def detect_language(text: str) -> str:
    """The language of ``text`` as a two- or three-letter tag; ``und`` when there is nothing to read."""
    if not any(ch.isalpha() for ch in text):
        return UNDETERMINED
    import py3langid  # here: its model (and numpy) cost ~60 ms to load, and most inputs state a language

    lang, _score = py3langid.classify(text)
    return normalize_tag(lang) or UNDETERMINED
