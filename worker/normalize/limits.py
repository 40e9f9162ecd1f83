"""Bounds on every string and list a source controls, applied once to the finished article.

One article must never be able to stall publishing for everyone (issue #14: 40,000 tags made
every render of its feeds overrun the task's time limit), so each field a source fills is either
refused with a :class:`NormalizeError` naming the field, the value's size and the limit, or cut
in a documented way (README, "Normalization limits"):

========== ========================== =========================================================
field      limit                      over the limit
========== ========================== =========================================================
title      1,000 characters           refused: a headline that long is a broken input
url        2,048 characters           refused (the common limit of browsers, CDNs and sitemaps)
section    256 characters             refused: it names a feed and its URL
source     64 characters              refused: it is part of the article id
summary    2,000 characters           cut at a word boundary, ending in ``…``
tags       50, each 100 characters    long ones cut at a word boundary, then repeats dropped
                                      (case-insensitive) and only the first 50 kept
authors    20, each 200 characters    the same as tags
========== ========================== =========================================================

Bidirectional control characters (U+202A-U+202E embeddings and overrides, U+2066-U+2069
isolates) are removed from the title, summary, section, tags and authors: in a one-line field
shown inside a reader's interface an override such as U+202E reverses the text around it
(``gnp.exe`` spoofing, a headline that reads backwards). The body keeps them: each paragraph is
its own ``<p>``, where the bidi state ends, and right-to-left prose may need them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from worker.models import Article
from worker.normalize.errors import NormalizeError
from worker.normalize.hygiene import clean_text

MAX_TITLE = 1000
MAX_URL = 2048
MAX_SECTION = 256
MAX_SOURCE = 64
MAX_SUMMARY = 2000
MAX_TAGS = 50
MAX_TAG = 100
MAX_AUTHORS = 20
MAX_AUTHOR = 200

BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
ELLIPSIS = "…"


def bound(article: Article) -> Article:
    """``article`` within the limits above, bidi controls removed; raises :class:`NormalizeError`
    for a field that must be refused. Pure; an article already within bounds comes back equal."""
    title = _line(article.title)
    if not title:
        raise NormalizeError("title: only bidirectional control characters (expected a headline)")
    _refuse_over("title", title, MAX_TITLE)
    _refuse_over("url", article.url or "", MAX_URL)
    # The id is the source as given (before it resolves to a publisher) + "-" + 20 hex digits.
    given_source = article.id[:-21] if len(article.id) > 21 else article.source
    _refuse_over("source", max(article.source, given_source, key=len), MAX_SOURCE)
    section = _line(article.section or "") or None
    _refuse_over("section", section or "", MAX_SECTION)
    summary = cut(_line(article.summary), MAX_SUMMARY, ELLIPSIS)
    changes: dict[str, object] = {
        "title": title,
        "section": section,
        "summary": summary,
        "tags": first_unique(article.tags, MAX_TAGS, MAX_TAG),
        "authors": first_unique(article.authors, MAX_AUTHORS, MAX_AUTHOR),
    }
    return article.model_copy(update=changes)


def _line(text: str) -> str:
    if not BIDI_CONTROLS.search(text):
        return text
    return clean_text(BIDI_CONTROLS.sub("", text))  # removing them may leave double spaces


def _refuse_over(field: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise NormalizeError(
            f"{field}: {len(value):,} characters is over the limit of {limit:,}"
            f" (shorten the {field} at the source)"
        )


def cut(text: str, limit: int, mark: str = "") -> str:
    """``text`` at most ``limit`` characters, cut at the last space in its second half when there
    is one (else mid-word), ``mark`` appended to a cut text (and counted in the limit)."""
    if len(text) <= limit:
        return text
    room = limit - len(mark)
    head = text[: room + 1]
    space = head.rfind(" ")
    head = head[:space] if space >= room // 2 else head[:room]
    return head.rstrip() + mark


def first_unique(values: Iterable[str], count: int, length: int) -> list[str]:
    """The first ``count`` distinct values (compared case-insensitively), each cut to ``length``
    characters and cleaned of bidi controls; stops reading once ``count`` are found."""
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        text = cut(_line(value), length)
        key = text.casefold()
        if text and key not in seen:
            seen.add(key)
            out.append(text)
            if len(out) == count:
                break
    return out
