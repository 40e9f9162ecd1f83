"""Scraped page text: the lines of a news page as a browser's "select all" gives them.

The shape (see ``tests/data/rferl-nato-afghan-pullout.txt``): body paragraphs, one per line;
the headline; a ``- By ...`` byline; then page furniture such as an "Editors' Picks" /
"<Section> Trending" list whose items may have their rank glued to the title
(``2After Key Report...``) or on a line of its own. The headline may also come first, with
the body after the byline.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime

from worker.normalize.draft import Draft
from worker.normalize.errors import NormalizeError

_BYLINE = re.compile(r"^[-–—•*]\s*By\s+(?P<who>\S.*)$", re.IGNORECASE)
_AUTHOR_SPLIT = re.compile(r"\s*,\s*(?:and\s+)?|\s+and\s+|\s*&\s*|\s*;\s*", re.IGNORECASE)
_SECTION_TRENDING = re.compile(r"^(?P<section>.+?)\s+Trending$", re.IGNORECASE)
_LIST_HEADING = re.compile(
    r"^(?:editors['’]?\s*picks?|trending(?:\s+now)?|most\s+(?:popular|read|viewed)|related(?:\s+\w+)?"
    r"|see\s+also|more\s+from\s+.+|recommended)$",
    re.IGNORECASE,
)
_RANK_ALONE = re.compile(r"^\d{1,2}\.?$")
# A rank glued to (or set before) an item title: "2After Key Report", "3. Kabul's Quiet...".
_RANKED_ITEM = re.compile(r"^\d{1,2}(?:[.)]\s+|(?=[^\W\d_]|['‘’\"“]))")
_SENTENCE_END = re.compile(r"[.!?…:;]['’\"”»)]*$")
_DATE_FORMATS = ("%B %d, %Y %H:%M GMT", "%B %d, %Y %H:%M UTC", "%B %d, %Y %H:%M", "%B %d, %Y")


def split_authors(value: str) -> list[str]:
    """``Jane Doe and RFE/RL's Tajik Service`` -> ``["Jane Doe", "RFE/RL's Tajik Service"]``."""
    return [part.strip() for part in _AUTHOR_SPLIT.split(value) if part.strip()]


def parse_text(lines: Sequence[str]) -> Draft:
    """The article in ``lines`` (clean, non-empty, notices already removed).

    Raises :class:`NormalizeError` when no headline line (the line before a byline) is found.
    """
    byline = next((i for i, line in enumerate(lines) if i > 0 and _BYLINE.match(line)), None)
    if byline is None:
        raise NormalizeError(
            "text: no headline line found (expected a headline right before a '- By ...' line)"
        )
    match = _BYLINE.match(lines[byline])
    assert match is not None
    draft = Draft(title=lines[byline - 1], authors=split_authors(match["who"]))
    rest = [*lines[: byline - 1], *lines[byline + 1 :]]
    draft.paragraphs = _drop_furniture(rest, draft)
    return draft


def _drop_furniture(lines: Sequence[str], draft: Draft) -> list[str]:
    """``lines`` without picks/trending lists and date lines; fills ``draft.section`` and dates."""
    kept: list[str] = []
    i = 0
    while i < len(lines):
        if _is_list_heading(lines[i], draft):
            i = _skip_list(lines, i + 1, draft)
            continue
        when = _date_line(lines[i])
        if when is not None:
            draft.published_at = draft.published_at or when
        else:
            kept.append(lines[i])
        i += 1
    return kept


def _is_list_heading(line: str, draft: Draft) -> bool:
    if _LIST_HEADING.match(line):
        return True
    match = _SECTION_TRENDING.match(line)
    if match and len(line) <= 80:
        draft.section = draft.section or match["section"].strip()
        return True
    return False


def _skip_list(lines: Sequence[str], i: int, draft: Draft) -> int:
    """The index of the first line after the list whose items start at ``i``."""
    while i < len(lines):
        line = lines[i]
        if _RANK_ALONE.match(line):
            i += 2  # the rank, then the item title on the next line
        elif _is_list_heading(line, draft) or _RANKED_ITEM.match(line) or _looks_like_item(line):
            i += 1
        else:
            break
    return min(i, len(lines))


def _looks_like_item(line: str) -> bool:
    """An unnumbered list item: a headline (short, no closing punctuation), not a body sentence."""
    return len(line) <= 160 and _SENTENCE_END.search(line) is None


def _date_line(line: str) -> datetime | None:
    if len(line) > 40 or not line[:1].isalpha():
        return None
    text = line.removeprefix("Updated ").removeprefix("Published ").strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None
