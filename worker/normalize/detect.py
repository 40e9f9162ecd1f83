"""Find the configured notices already present in a source, and take them out.

A source often carries a legal notice that this service attaches itself, per audience
(e.g. RFE/RL's "undesirable organization" notice). Left in, readers would see it twice or
in the wrong region, so it is removed here and its id recorded.

Matching works on words, not characters: case, quotes (curly or straight), punctuation,
spacing and line wrapping do not matter. A word of the source is *covered* when it belongs
to a run of ``SHINGLE`` consecutive words that also occurs in a notice text (any language).
A block (a line or a paragraph) is removed when

1. at least ``BLOCK_COVERAGE`` of its words are covered (a trailing "To find out more, click
   here." counts as covered), and
2. it belongs to a run of such blocks that together hold enough of one notice text
   (half of it, or ``ENOUGH_WORDS`` words), so a news sentence quoting a few words of a
   notice stays.

A trailer line ("To find out more, click here.") right after a removed notice, and the
notice's own title right before it, go with it.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from worker.models import Notice

SHINGLE = 5
BLOCK_COVERAGE = 0.75
ENOUGH_WORDS = 25

_WORD = re.compile(r"\w+")
_LEAD = (
    r"(?:(?:to )?(?:find out|learn|read|see) more|more (?:info|information|details)|подробнее"
    r"|(?:чтобы )?узнать (?:больше|подробнее)|читайте (?:далее|подробнее))"
)
_LINK = (
    r"(?:(?:please )?(?:click|tap|press) here|here|нажмите (?:здесь|сюда)|здесь"
    r"|(?:перейдите )?по ссылке|тут)"
)
_TRAILER = re.compile(rf"{_LEAD}(?: {_LINK})?|{_LINK}(?: (?:to|for) {_LEAD})?(?: information| info)?")


def words(text: str) -> list[str]:
    """The comparable words of ``text``: NFKC, case-folded, ``ё`` as ``е``, punctuation gone."""
    return _WORD.findall(_fold(text))


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")


def is_trailer(tokens: Sequence[str]) -> bool:
    """True for the words of a "to find out more, click here" line (English or Russian)."""
    return bool(tokens) and _TRAILER.fullmatch(" ".join(tokens)) is not None


@dataclass(frozen=True)
class _Pattern:
    notice_id: str
    shingles: dict[tuple[str, ...], tuple[int, ...]]
    size: int
    needed: int
    title: tuple[str, ...]


@dataclass(frozen=True)
class _Index:
    """The patterns of a list of notices, and what lets most sources skip matching altogether."""

    patterns: list[_Pattern]
    vocabulary: frozenset[str]  # every word of every shingle
    keys: tuple[str, ...]  # every shingle holds one of these words (as a token)


_cached: tuple[Sequence[Notice], _Index] | None = None


def _index(notices: Sequence[Notice]) -> _Index:
    """The notices' shingles; built once per list of notices (the configuration's own list)."""
    global _cached
    cached = _cached
    if cached is not None and cached[0] is notices:
        return cached[1]
    patterns = _build_patterns(notices)
    shingles = [shingle for p in patterns for shingle in p.shingles]
    out = _Index(patterns, frozenset(w for shingle in shingles for w in shingle), _keys(shingles))
    _cached = (notices, out)
    return out


def _keys(shingles: Sequence[tuple[str, ...]]) -> tuple[str, ...]:
    """Words such that every shingle holds one: its longest, unless it already holds a chosen one.

    A source none of whose folded blocks holds any of them as a substring matches no shingle: a
    matched shingle's words are tokens of the source's folded text. A key holding another key is
    dropped (the shorter one is found wherever the longer one is).
    """
    chosen: set[str] = set()
    for shingle in shingles:
        if not chosen.intersection(shingle):
            chosen.add(max(shingle, key=len))
    return tuple(sorted(k for k in chosen if not any(o != k and o in k for o in chosen)))


def _build_patterns(notices: Sequence[Notice]) -> list[_Pattern]:
    out: list[_Pattern] = []
    for notice in notices:
        for variant in notice.texts.values():
            tokens = words(variant.text)
            if not tokens:
                continue
            size = min(SHINGLE, len(tokens))
            shingles: dict[tuple[str, ...], list[int]] = {}
            for i in range(len(tokens) - size + 1):
                shingles.setdefault(tuple(tokens[i : i + size]), []).append(i)
            needed = max(size, min(math.ceil(len(tokens) / 2), ENOUGH_WORDS))
            title = tuple(words(variant.title or ""))
            frozen = {k: tuple(v) for k, v in shingles.items()}
            out.append(_Pattern(notice.id, frozen, size, needed, title))
    return out


def remove_notices(blocks: Sequence[str], notices: Sequence[Notice]) -> tuple[list[str], list[str]]:
    """``blocks`` without the notices found in them, and the ids found (first appearance first)."""
    removed, detected = notice_blocks(blocks, notices)
    return [b for k, b in enumerate(blocks) if k not in removed], detected


def notice_blocks(blocks: Sequence[str], notices: Sequence[Notice]) -> tuple[set[int], list[str]]:
    """The indices of the blocks that belong to a notice, and the ids found (first appearance first)."""
    index = _index(notices)
    patterns = index.patterns
    if not patterns or not blocks:
        return set(), []
    folded = [_fold(b) for b in blocks]
    joined = "\n".join(folded)
    if not any(key in joined for key in index.keys):
        return set(), []  # no shingle of any notice can match (see _keys)
    block_words = [_WORD.findall(f) for f in folded]
    owner = [i for i, ws in enumerate(block_words) for _ in ws]
    flat = [w for ws in block_words for w in ws]
    # run[t]: how many words from t on are in some notice's shingles (a shingle can start at t
    # only when that is at least its size).
    run = [0] * (len(flat) + 1)
    vocabulary = index.vocabulary
    for t in range(len(flat) - 1, -1, -1):
        if flat[t] in vocabulary:
            run[t] = run[t + 1] + 1
    # hits[p][t]: the positions of notice text p that word t of the source lines up with.
    hits: list[dict[int, set[int]]] = []
    runs: dict[int, list[tuple[int, tuple[str, ...]]]] = {}  # the source's shingles, once per size
    for pattern in patterns:
        size = pattern.size
        if size not in runs:
            starts = [s for s in range(len(flat) - size + 1) if run[s] >= size]
            runs[size] = [(s, tuple(flat[s : s + size])) for s in starts]
        found: dict[int, set[int]] = {}
        lookup = pattern.shingles.get
        for start, shingle in runs[size]:
            for pos in lookup(shingle, ()):
                for k in range(size):
                    found.setdefault(start + k, set()).add(pos + k)
        hits.append(found)
    any_hit = set().union(*hits)
    if not any_hit:
        return set(), []  # no block is covered, so none is a candidate
    covered = [t in any_hit for t in range(len(flat))]
    first = [0] * len(blocks)
    for t in reversed(range(len(flat))):
        first[owner[t]] = t
    candidate = [
        _mostly_notice(ws, covered[first[i] : first[i] + len(ws)]) for i, ws in enumerate(block_words)
    ]

    removed: set[int] = set()
    detected: list[str] = []
    i = 0
    while i < len(blocks):
        if not candidate[i]:
            i += 1
            continue
        j = i
        while j < len(blocks) and candidate[j]:
            j += 1
        span = range(first[i], first[j - 1] + len(block_words[j - 1]))
        ids = [p for k, p in enumerate(patterns) if _held(hits[k], span) >= p.needed]
        if ids:
            removed.update(range(i, j))
            removed.update(_companions(block_words, i, j, ids))
            detected.extend(p.notice_id for p in ids if p.notice_id not in detected)
        i = j
    return removed, detected


def _mostly_notice(tokens: list[str], covered: list[bool]) -> bool:
    hit = sum(covered)
    if not hit:
        return False
    rest = [w for w, c in zip(tokens, covered, strict=True) if not c]
    return not rest or is_trailer(rest) or hit / len(tokens) >= BLOCK_COVERAGE


def _held(found: dict[int, set[int]], span: range) -> int:
    positions: set[int] = set()
    for t in span:
        positions.update(found.get(t, ()))
    return len(positions)


def _companions(block_words: list[list[str]], start: int, end: int, found: list[_Pattern]) -> list[int]:
    """The trailer line after a removed notice and the notice title before it."""
    out: list[int] = []
    if end < len(block_words) and is_trailer(block_words[end]):
        out.append(end)
    titles = {p.title for p in found if p.title}
    if start > 0 and tuple(block_words[start - 1]) in titles:
        out.append(start - 1)
    return out
