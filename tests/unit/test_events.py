"""Webhook event bodies (worker.events): the contract shape and the payload cap."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from worker.events import event_body
from worker.models import Article, AttachedNotice, AudienceArticle

AT = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def view(paragraphs: int = 2) -> AudienceArticle:
    text = "\n\n".join(f"Paragraph {i} " + "word " * 50 for i in range(paragraphs))
    html = "".join(f"<p>Paragraph {i} " + "word " * 50 + "</p>" for i in range(paragraphs))
    article = Article(
        id="art_1",
        source="rferl",
        url="https://www.rferl.org/a/story/1.html",
        title="A story",
        language="en",
        body_text=text,
        body_html=html,
        content_hash="h1",
        published_at=AT,
    )
    notice = AttachedNotice(id="rferl-undesirable-ru", language="ru", text="Notice text", url=None)
    return AudienceArticle(audience="ru", article=article, notices=[notice])


def test_a_small_event_carries_the_whole_article() -> None:
    body = event_body("article.published", view(), AT, payload_cap=256 * 1024)
    doc = json.loads(body)
    assert doc["type"] == "article.published" and doc["timestamp"] == "2026-01-10T12:00:00Z"
    assert doc["data"]["audience"] == "ru"
    article = doc["data"]["article"]
    assert "Paragraph 1" in article["body_html"] and "Paragraph 1" in article["body_text"]
    assert article["body_html"].count('data-notice="rferl-undesirable-ru"') == 1
    assert article["notices"] == [
        {"id": "rferl-undesirable-ru", "language": "ru", "text": "Notice text", "url": None}
    ]
    assert "truncated" not in article


def test_an_event_over_the_cap_goes_without_body_html_but_with_its_link() -> None:
    big = view(paragraphs=400)
    full = event_body("article.published", big, AT, payload_cap=10**9)
    cap = len(full) // 2
    body = event_body("article.updated", big, AT, payload_cap=cap)
    assert len(body) <= cap
    article = json.loads(body)["data"]["article"]
    assert "body_html" not in article
    assert article["truncated"] is True
    assert article["url"] == "https://www.rferl.org/a/story/1.html"
    assert article["title"] == "A story" and article["id"] == "art_1"
    assert [n["id"] for n in article["notices"]] == ["rferl-undesirable-ru"]  # legal notices stay


def test_the_cap_is_exact_at_the_boundary() -> None:
    full = event_body("article.published", view(), AT, payload_cap=10**9)
    assert event_body("article.published", view(), AT, payload_cap=len(full)) == full
    smaller = event_body("article.published", view(), AT, payload_cap=len(full) - 1)
    assert "body_html" not in json.loads(smaller)["data"]["article"]


def test_withdrawn_events_are_small_and_carry_no_body() -> None:
    article = json.loads(event_body("article.withdrawn", view(), AT, payload_cap=256 * 1024))["data"][
        "article"
    ]
    assert set(article) == {"id", "source", "url", "title", "restricted_regions", "notices"}


def test_the_bytes_are_stable() -> None:
    """The same event gives the same bytes: what is signed is what is sent, every time."""
    assert event_body("article.published", view(), AT, payload_cap=2048) == event_body(
        "article.published", view(), AT, payload_cap=2048
    )
