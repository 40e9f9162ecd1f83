"""HTML pages: trafilatura body, meta-tag metadata, hostile markup gone, sanitized HTML."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from worker.models import Article, Notice, RawInput
from worker.normalize import normalize
from worker.normalize.paragraphs import html_to_paragraphs

DATA = Path(__file__).resolve().parents[1] / "data"
HOSTILE = (DATA / "normalize" / "rferl-hostile.html").read_text(encoding="utf-8")
NOTICES = [
    Notice.model_validate(n) for n in json.loads((DATA / "normalize" / "notices.json").read_text("utf-8"))
]
PARAGRAPHS = json.loads((DATA / "rferl-nato-afghan-pullout.expected.json").read_text("utf-8"))["paragraphs"]
LEAKS = [
    "SCRIPT-LEAK", "STYLE-LEAK", "NAV-LEAK", "ASIDE-LEAK", "FOOTER-LEAK", "IFRAME-LEAK", "javascript",
    "onclick", "onerror", "onmouseover", "alert", "<script", "<iframe", "undesirable",
    "click here", "Click me", "Editors' Picks",
]  # fmt: skip


@pytest.fixture(scope="module")
def hostile() -> Article:
    return normalize(RawInput(format="html", body=HOSTILE), NOTICES)


def test_hostile_metadata(hostile: Article) -> None:
    assert (
        hostile.title == "NATO Chief Says Afghan Pullout Progressing In 'Orderly Way' Amid Continued Violence"
    )
    assert hostile.authors == ["RFE/RL"]
    assert hostile.published_at == datetime(2021, 6, 1, 12, 30, tzinfo=UTC)
    assert hostile.updated_at == datetime(2021, 6, 1, 14, 0, tzinfo=UTC)
    assert hostile.section == "Afghanistan/Pakistan"
    assert hostile.tags == ["NATO", "Afghanistan"]
    assert hostile.url == "https://www.rferl.org/a/nato-afghan-pullout/31283123.html"
    assert hostile.language == "en"
    assert hostile.source == "rferl"
    assert hostile.summary == "NATO's exit from Afghanistan is progressing in an orderly way, its chief says."


def test_hostile_body_and_notice(hostile: Article) -> None:
    paragraphs = hostile.body_text.split("\n\n")
    # The iframe shows neither a video nor a social post (an ad, a widget): it goes.
    assert paragraphs == [*PARAGRAPHS[:4], "Summit In Brussels", *PARAGRAPHS[4:]]
    assert hostile.detected_notices == ["rferl-undesirable-ru"]


@pytest.mark.parametrize("leak", LEAKS)
def test_hostile_markup_is_gone(hostile: Article, leak: str) -> None:
    fields = [hostile.title, hostile.summary, hostile.body_text, hostile.body_html, *hostile.authors]
    assert all(leak not in field for field in fields)


def test_body_html_keeps_structure_and_nothing_else(hostile: Article) -> None:
    tags = set(re.findall(r"</?([a-zA-Z0-9]+)[^>]*>", hostile.body_html))
    assert tags == {"p", "h2"}
    assert "<h2>Summit In Brussels</h2>" in hostile.body_html
    assert "<p " not in hostile.body_html  # no attributes on paragraphs
    assert hostile.body_html.count("<p>") + 1 == len(hostile.body_text.split("\n\n"))


def test_text_that_looks_like_markup_is_escaped() -> None:
    page = (
        "<html lang='ru-ru'><body><article><h1>Заголовок статьи</h1>"
        "<p>В тексте есть 5 &lt; 6 &amp; AT&amp;T и &lt;script&gt;alert(1)&lt;/script&gt; как текст. "
        "Это предложение нужно, чтобы текста было достаточно для извлечения статьи из страницы.</p>"
        "<p>Второй абзац статьи рассказывает о событиях недели и мнениях экспертов по этому поводу.</p>"
        "</article></body></html>"
    )
    article = normalize(RawInput(format="html", body=page, url="https://example.org/a?gclid=1"))
    assert article.title == "Заголовок статьи"
    assert article.language == "ru-RU"
    assert article.url == "https://example.org/a"  # the caller's URL when the page has none
    assert "5 < 6 & AT&T" in article.body_text
    assert "<script>alert(1)</script>" in article.body_text
    assert "5 &lt; 6 &amp; AT&amp;T" in article.body_html
    assert "<script>" not in article.body_html


def test_caller_published_at_fills_a_page_without_dates() -> None:
    page = (
        "<html><body><article><h1>Title</h1><p>"
        + "Some words of article text. " * 20
        + "</p></article></body></html>"
    )
    article = normalize(RawInput(format="html", body=page, published_at="Tue, 01 Jun 2021 12:00:00 +0300"))
    assert article.published_at == datetime(2021, 6, 1, 9, 0, tzinfo=UTC)
    assert article.language == "en"  # detected: no lang attribute


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        ("<p>a</p><p>b</p>", ["a", "b"]),
        ("<div><p>a <b>bold</b> word</p>tail text</div>", ["a bold word", "tail text"]),
        ("<ul><li>one</li><li>two</li></ul>", ["one", "two"]),
        ("<p>line<br>break</p>", ["line break"]),
        ("<p>x</p><script>bad()</script><nav>menu</nav><p>y</p>", ["x", "y"]),
        ("plain words", ["plain words"]),
        ("", []),
    ],
    ids=["paragraphs", "inline-and-tail", "list", "br", "dropped-elements", "no-tags", "empty"],
)
def test_html_to_paragraphs(fragment: str, expected: list[str]) -> None:
    assert html_to_paragraphs(fragment) == expected
