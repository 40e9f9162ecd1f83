"""Fit a webhook event under the payload cap: pure, bytes out (README, HTTP API, "Payload cap").

An event over ``SYNDICATE_WEBHOOK_PAYLOAD_CAP`` bytes is cut field by field until it fits:

1. the fields of ``CUT_ORDER``, in that order (``body_html`` is left out, the others kept empty:
   ``""``, ``[]`` or ``null``), then ``title`` is shortened (ending in ``…``);
2. every other field of the article, largest first (so fields added later are covered too),
   except ``id`` and ``notices``;
3. last, only when the configuration itself is too big for the cap: the notices' texts, then
   the notices, then the id is shortened.

A cut event says so: ``data.truncated`` lists the fields cut, in order, and
``data.article.truncated`` is ``true``; the receiver fetches the article from its ``url``.
An event within the cap is never touched.

Another form of the article (a ninjs document) brings its own :class:`CutRules`: its order, the
fields never cut, no ``truncated`` mark inside a document whose schema has none, cut fields left
out rather than emptied, and what stands for a cut field (the notices alone for a cut body).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

CUT_ORDER: tuple[str, ...] = ("body_html", "body_text", "summary", "tags", "authors")
SHORTENED = "title"
KEPT_TO_LAST: tuple[str, ...] = ("id", "notices")
# Fields whose contract says "string" (never null): cut to "" rather than null.
_STRINGS = frozenset({"id", "source", "title", "language", "summary", "body_text", "content_hash"})
_DROPPED = frozenset({"body_html"})
ELLIPSIS = "…"

Dump = Callable[[dict[str, Any], list[str]], bytes]


@dataclass(frozen=True)
class CutRules:
    """How one form of the article is cut (the defaults: the contract's JSON article)."""

    order: Sequence[str] = CUT_ORDER
    kept: Sequence[str] = KEPT_TO_LAST
    shortened: str = SHORTENED  # "" : no string field is shortened
    drop_all: bool = False  # True: every cut field is left out (else only ``_DROPPED`` ones)
    mark: bool = True  # ``article["truncated"] = True``
    replacements: Mapping[str, Any] = field(default_factory=dict)  # what stands for a cut field


JSON_RULES = CutRules()


def fit_event(
    article: dict[str, Any],
    dump: Dump,
    cap: int,
    *,
    order: Sequence[str] | None = None,
    rules: CutRules = JSON_RULES,
) -> bytes:
    """``dump(article, cut)`` as it is, or with fields cut in the documented order until it fits.

    ``dump`` writes the whole event for an article dict and the list of fields cut; ``article``
    is changed in place. The result is over ``cap`` only if the event without any article field
    is (an audience id or cap absurdly small): ``Settings`` refuses caps under ``MIN_PAYLOAD_CAP``.
    """
    body = dump(article, [])
    if len(body) <= cap:
        return body
    cut: list[str] = []
    if rules.mark:
        article["truncated"] = True
    shortened = rules.shortened

    def cut_field(name: str) -> bool:
        return _cut(article, name, cut, rules)

    def attempt() -> bytes:
        return dump(article, cut)

    def fits() -> bool:
        return len(attempt()) <= cap

    def fits_with_title() -> bool:
        """Fits as it is, or once the title is shortened."""
        if len(attempt()) <= cap:
            return True
        if not shortened or not isinstance(article.get(shortened), str):
            return False
        return _shorten(article, shortened, attempt, cap, cut)

    for name in rules.order if order is None else order:
        if cut_field(name) and fits():
            return attempt()
    if fits_with_title():
        return attempt()
    rest = [k for k in article if k not in (*rules.kept, shortened, "truncated") and _has(article, k)]
    rest.sort(key=lambda k: -len(json.dumps(article[k], ensure_ascii=False)))
    for name in rest:
        if cut_field(name) and fits_with_title():
            return attempt()
    notices = article.get("notices")
    if isinstance(notices, list) and notices:
        for notice in notices:
            if isinstance(notice, dict):
                notice["text"] = ""
        cut.append("notices.text")
        if fits_with_title():
            return attempt()
        article["notices"] = []
        cut.append("notices")
        if fits_with_title():
            return attempt()
    if shortened and cut_field(shortened) and fits():
        return attempt()
    if isinstance(article.get("id"), str) and article["id"]:
        _shorten(article, "id", attempt, cap, cut)
    return attempt()


def _has(article: dict[str, Any], name: str) -> bool:
    return name in article and article[name] not in ("", [], {}, None)


def _cut(article: dict[str, Any], name: str, cut: list[str], rules: CutRules = JSON_RULES) -> bool:
    """Empty ``name`` (``body_html``: leave it out); False when there was nothing to cut."""
    if not _has(article, name) or article[name] == rules.replacements.get(name):
        return False
    value = article[name]
    if name in rules.replacements:
        article[name] = rules.replacements[name]
        if not _has(article, name):
            del article[name]
    elif rules.drop_all or name in _DROPPED:
        del article[name]
    elif isinstance(value, list):
        article[name] = []
    elif name in _STRINGS and isinstance(value, str):
        article[name] = ""
    else:
        article[name] = None
    cut.append(name)
    return True


def _shorten(
    article: dict[str, Any], name: str, attempt: Callable[[], bytes], cap: int, cut: list[str]
) -> bool:
    """The longest prefix of the string ``article[name]`` (plus ``…``) that fits; False (and the
    string as it was) if none does."""
    full: str = article[name]
    cut.append(name)  # counted in each attempt's size
    # Each character takes at least one byte, so no prefix longer than the cap can fit.
    low, high = 0, min(len(full), cap)
    best: str | None = None
    while low <= high:
        mid = (low + high) // 2
        article[name] = full[:mid] + ELLIPSIS if mid < len(full) else full
        if len(attempt()) <= cap:
            best = article[name]
            low = mid + 1
        else:
            high = mid - 1
    article[name] = full if best is None else best
    if article[name] == full:
        cut.remove(name)
    return best is not None
