"""Golden corpus: scraped page text with an exact expected outcome (tests/data/*.expected.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from worker.models import Article, Notice, RawInput
from worker.normalize import normalize

DATA = Path(__file__).resolve().parents[1] / "data"
CASES = [
    DATA / "rferl-nato-afghan-pullout.txt",
    DATA / "normalize" / "rferl-tajik-detentions.txt",
]


def _notices() -> list[Notice]:
    raw = json.loads((DATA / "normalize" / "notices.json").read_text(encoding="utf-8"))
    return [Notice.model_validate(item) for item in raw]


def _text_fields(article: Article) -> list[str]:
    return [
        article.title,
        article.summary,
        article.body_text,
        article.body_html,
        article.section or "",
        *article.authors,
        *article.tags,
    ]


@pytest.fixture(params=CASES, ids=lambda p: p.stem)
def case(request: pytest.FixtureRequest) -> tuple[str, dict[str, object]]:
    path: Path = request.param
    body = path.read_bytes().decode("utf-8")  # bytes: keep the CRLF line ends as they are
    expected = json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))
    return body, expected


def test_golden_fields(case: tuple[str, dict[str, object]]) -> None:
    body, expected = case
    article = normalize(RawInput(format="text", body=body), _notices())
    assert article.title == expected["title"]
    assert article.authors == expected["authors"]
    assert article.section == expected["section"]
    assert article.body_text.split("\n\n") == expected["paragraphs"]
    assert article.detected_notices == expected["detected_notices"]
    assert article.summary == expected["paragraphs"][0]  # type: ignore[index]
    assert article.body_html.count("<p>") == len(expected["paragraphs"])  # type: ignore[arg-type]


def test_golden_must_not_contain(case: tuple[str, dict[str, object]]) -> None:
    body, expected = case
    article = normalize(RawInput(format="text", body=body), _notices())
    for field in _text_fields(article):
        for phrase in expected["must_not_contain"]:  # type: ignore[attr-defined]
            assert phrase not in field, f"{phrase!r} leaked into {field[:60]!r}"


def test_golden_is_deterministic(case: tuple[str, dict[str, object]]) -> None:
    body, _ = case
    first = normalize(RawInput(format="text", body=body), _notices())
    second = normalize(RawInput(format="text", body=body), _notices())
    assert first.model_dump() == second.model_dump()
    assert first.to_public() == second.to_public()


def test_tajik_fixture_keeps_crlf() -> None:
    """The second fixture really exercises CRLF (an editor could silently convert it)."""
    assert b"\r\n" in CASES[1].read_bytes()


def test_seed_notice_infers_source_and_language() -> None:
    article = normalize(RawInput(format="text", body=CASES[0].read_text(encoding="utf-8")), _notices())
    assert article.source == "rferl"  # from the detected notice, whose rule covers one publisher
    assert article.language == "en"
    assert article.id.startswith("rferl-")
    assert article.published_at is None


def test_seed_without_configured_notices_keeps_them() -> None:
    """Nothing is detected that was not configured: the notice then stays as body text."""
    article = normalize(RawInput(format="text", body=CASES[0].read_text(encoding="utf-8")))
    assert article.detected_notices == []
    assert "undesirable organization" in article.body_text
    assert article.source == "unknown"
