"""Extraction quality: ``body_text`` F1 of our normalizer beside plain trafilatura, in the same run.

The data set is the development half of scrapinghub's article-extraction benchmark
(``../shared/bench/article-extraction/``, or ``SYNDICATE_EXTRACTION_BENCH``); its README says how it
is scored, and :func:`score` does exactly that: ``\\w+`` words, 4-word shingles counted with
multiplicity, precision and recall per page averaged over pages, F1 of the two averages.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from worker.models import RawInput
from worker.normalize import normalize
from worker.normalize.errors import NormalizeError

DEFAULT_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "bench" / "article-extraction"
_WORD = re.compile(r"\w+")
SHINGLE = 4
TARGET = 0.965


def data_dir() -> Path:
    given = os.environ.get("SYNDICATE_EXTRACTION_BENCH")
    candidates = [Path(given)] if given else [DEFAULT_DIR, Path("/work/shared/bench/article-extraction")]
    for path in candidates:
        if (path / "ground-truth.json").is_file():
            return path.resolve()
    raise SystemExit(
        f"extraction: no data set at {', '.join(map(str, candidates))} (set SYNDICATE_EXTRACTION_BENCH)"
    )


def load(directory: Path, limit: int | None = None) -> list[tuple[str, str, str, str]]:
    """``(key, url, html, true body)`` for each page, in key order."""
    truth = json.loads((directory / "ground-truth.json").read_text(encoding="utf-8"))
    out = []
    for key in sorted(truth)[:limit]:
        raw = gzip.decompress((directory / "html" / f"{key}.html.gz").read_bytes())
        out.append((key, truth[key].get("url") or "", _decode(raw), truth[key].get("articleBody") or ""))
    return out


def _decode(raw: bytes) -> str:
    head = raw[:4096].decode("ascii", "ignore").lower()
    match = re.search(r"charset=[\"']?([a-z0-9_-]+)", head)
    for encoding in (match.group(1) if match else "utf-8", "utf-8"):
        try:
            return raw.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return raw.decode("utf-8", "replace")


def shingles(text: str) -> Counter[tuple[str, ...]]:
    words = _WORD.findall(text)
    return Counter(tuple(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1))


def page_scores(predicted: str, truth: str) -> tuple[float | None, float | None]:
    """``(precision, recall)`` of one page; ``None`` where the README leaves the page out."""
    pred, true = shingles(predicted), shingles(truth)
    tp = sum((pred & true).values())
    fp = sum(pred.values()) - tp
    fn = sum(true.values()) - tp
    if fp == 0 and fn == 0:
        return 1.0, 1.0
    precision = tp / (tp + fp) if pred else None
    recall = tp / (tp + fn) if true else None
    return precision, recall


def score(pairs: Iterable[tuple[str, str]]) -> dict[str, float]:
    precisions, recalls = [], []
    for predicted, truth in pairs:
        p, r = page_scores(predicted, truth)
        if p is not None:
            precisions.append(p)
        if r is not None:
            recalls.append(r)
    precision = sum(precisions) / len(precisions) if precisions else 0.0
    recall = sum(recalls) / len(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"f1": round(f1, 4), "precision": round(precision, 4), "recall": round(recall, 4)}


def ours(url: str, html: str) -> str:
    try:
        return normalize(RawInput(format="html", body=html, url=url or None)).body_text
    except NormalizeError:
        return ""


def plain_trafilatura(url: str, html: str) -> str:
    import trafilatura

    return trafilatura.extract(html, url=url or None) or ""


def _run(
    extract: Callable[[str, str], str], pages: list[tuple[str, str, str, str]]
) -> tuple[dict[str, float], float]:
    started = time.monotonic()
    pairs = [(extract(url, html), truth) for _, url, html, truth in pages]
    return score(pairs), time.monotonic() - started


def extraction(limit: int | None = None) -> dict[str, Any]:
    """The scenario: both extractors over the same pages, one JSON object out."""
    directory = data_dir()
    pages = load(directory, limit)
    base, base_seconds = _run(plain_trafilatura, pages)
    mine, my_seconds = _run(ours, pages)
    return {
        "scenario": "extraction",
        "pages": len(pages),
        "ours": mine,
        "trafilatura": base,
        "ours_seconds": round(my_seconds, 2),
        "trafilatura_seconds": round(base_seconds, 2),
        "summary_ours": f"F1 {mine['f1']}",
        "summary_base": f"trafilatura F1 {base['f1']}",
        "ratio": round(mine["f1"] / base["f1"], 4) if base["f1"] else None,
        "target": f"F1 >= {TARGET} and above trafilatura",
        "met": mine["f1"] >= TARGET and mine["f1"] > base["f1"],
    }


if __name__ == "__main__":
    print(json.dumps(extraction()))
