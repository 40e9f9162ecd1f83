"""Scraped page text: headline, byline, section, furniture lists, line endings."""

from __future__ import annotations

from pathlib import Path

import pytest

from worker.models import RawInput
from worker.normalize import normalize
from worker.normalize.text import split_authors

SEED = (Path(__file__).resolve().parents[1] / "data" / "rferl-nato-afghan-pullout.txt").read_text(
    encoding="utf-8"
)
BODY = [
    "The government announced new measures on Tuesday to curb rising prices.",
    "Critics said the plan would do little for families already struggling.",
]


def _text(lines: list[str], sep: str = "\n") -> str:
    return sep.join(lines)


def _norm(body: str):
    return normalize(RawInput(format="text", body=body))


@pytest.mark.parametrize(
    ("byline", "expected"),
    [
        ("Jane Doe and RFE/RL's Tajik Service", ["Jane Doe", "RFE/RL's Tajik Service"]),
        ("RFE/RL", ["RFE/RL"]),
        ("Jane Doe, John Roe, and Mary Major", ["Jane Doe", "John Roe", "Mary Major"]),
        ("Jane Doe & John Roe", ["Jane Doe", "John Roe"]),
        ("Alexandra Sanders", ["Alexandra Sanders"]),  # "and" inside a name is not a separator
    ],
    ids=["and", "single", "oxford-comma", "ampersand", "and-inside-name"],
)
def test_split_authors(byline: str, expected: list[str]) -> None:
    assert split_authors(byline) == expected


@pytest.mark.parametrize(
    "sep",
    ["\n", "\r\n", "\r", "\n\n", "\r\n\r\n", "\n \n\t\n"],
    ids=["lf", "crlf", "cr", "blank", "crlf-blank", "ws"],
)
def test_line_endings_and_blank_lines_do_not_matter(sep: str) -> None:
    reference = _norm(SEED)
    article = _norm(sep.join(SEED.split("\n")))
    assert article.title == reference.title
    assert article.body_text == reference.body_text
    assert article.section == "Afghanistan/Pakistan"


def test_subhead_in_body_is_not_the_headline() -> None:
    body = [BODY[0], "What Comes Next", BODY[1], "Prices Rise Again As Government Acts", "- By Jane Doe"]
    article = _norm(_text(body))
    assert article.title == "Prices Rise Again As Government Acts"
    assert article.body_text.split("\n\n") == [BODY[0], "What Comes Next", BODY[1]]
    assert article.authors == ["Jane Doe"]


def test_headline_first_with_date_line() -> None:
    lines = ["Prices Rise Again", "- By Jane Doe", "June 01, 2021 12:30 GMT", *BODY]
    article = _norm(_text(lines))
    assert article.title == "Prices Rise Again"
    assert article.body_text.split("\n\n") == BODY
    assert (
        article.published_at is not None and article.published_at.isoformat() == "2021-06-01T12:30:00+00:00"
    )


@pytest.mark.parametrize(
    "items",
    [
        ["1", "First Story Title", "2", "Second Story. With A Period.", "3", "Third?"],
        ["1First Story Title", "2Second Story Title", "10Tenth Story Title"],
        ["1. First Story Title", "2) Second Story Title"],
        ["First Story Title", "Second Story Title"],
        ["1", "First Story Title", "2'Quoted' Story Title", "3“Curly” Story"],
    ],
    ids=["rank-on-own-line", "rank-glued", "rank-dotted", "unranked", "glued-quotes"],
)
def test_trending_list_removed_whatever_its_shape(items: list[str]) -> None:
    lines = [*BODY, "Prices Rise", "- By Jane Doe", "Editors' Picks", "Europe Trending", *items]
    article = _norm(_text(lines))
    assert article.body_text.split("\n\n") == BODY
    assert article.section == "Europe"
    assert "Story" not in article.body_text + article.summary


def test_long_trending_list_and_body_after_it() -> None:
    items = [f"{n}Story Number {n} Title" for n in range(1, 31)]
    closing = "The ministry will publish the full plan next week."
    lines = ["Prices Rise", "- By Jane Doe", *BODY, "World Trending", *items, closing]
    article = _norm(_text(lines))
    assert article.body_text.split("\n\n") == [*BODY, closing]
    assert article.section == "World"


def test_numbers_in_body_are_kept() -> None:
    lines = ["2021 was a hard year for the region.", "3,500 troops remain.", "Headline", "- By X"]
    article = _norm(_text(lines))
    assert article.body_text.split("\n\n") == lines[:2]


def test_raw_input_metadata_fills_what_text_lacks() -> None:
    raw = RawInput(
        format="text",
        body=SEED,
        source="RFERL",
        url="https://www.rferl.org/a/31283123.html?utm_source=x",
        published_at="2021-06-01T14:00:00+02:00",
        section="World",
        language="en-us",
    )
    article = normalize(raw)
    assert article.source == "rferl"
    assert article.url == "https://www.rferl.org/a/31283123.html"
    assert (
        article.published_at is not None and article.published_at.isoformat() == "2021-06-01T12:00:00+00:00"
    )
    assert article.section == "World"  # the caller's section wins over the page's
    assert article.language == "en-US"


def test_duplicate_paragraphs_dropped() -> None:
    article = _norm(_text([BODY[0], BODY[1], BODY[0], BODY[0].upper(), "Headline", "- By X"]))
    assert article.body_text.split("\n\n") == BODY
