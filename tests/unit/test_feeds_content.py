"""feeds.meta and feeds.content: slugs, feed URLs, notices in item content, ids, dates, order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from feeds import content
from feeds.formats import UnknownFormatError
from feeds.meta import FeedMeta
from worker.models import Article, AttachedNotice, AudienceArticle
from worker.names import section_slug


def article(**overrides: object) -> Article:
    fields: dict[str, object] = {
        "id": "art-1",
        "source": "rferl",
        "title": "Title",
        "language": "en",
        "summary": "Summary.",
        "body_text": "First paragraph.\n\nSecond paragraph.",
        "body_html": "<p>First paragraph.</p><p>Second paragraph.</p>",
        "content_hash": "hash",
    }
    fields.update(overrides)
    return Article.model_validate(fields)


def notice(**overrides: object) -> AttachedNotice:
    fields: dict[str, object] = {
        "id": "rferl-undesirable-ru",
        "language": "ru",
        "text": "Нежелательная организация",
        "url": "https://www.example.org/notice",
    }
    fields.update(overrides)
    return AttachedNotice.model_validate(fields)


def item(notices: list[AttachedNotice] | None = None, **overrides: object) -> AudienceArticle:
    return AudienceArticle(audience="ru", article=article(**overrides), notices=notices or [])


@pytest.mark.parametrize(
    ("section", "slug"),
    [
        ("Afghanistan/Pakistan", "afghanistan-pakistan"),
        ("World", "world"),
        ("  Central Asia  ", "central-asia"),
        ("Russia -- Ukraine War!", "russia-ukraine-war"),
        ("snake_case_name", "snake-case-name"),
        ("Россия и мир", "россия-и-мир"),
        ("Tech & Science 2024", "tech-science-2024"),
        ("---", ""),
    ],
    ids=["slash", "plain", "spaces", "punctuation-run", "underscore", "cyrillic", "ampersand", "only-dashes"],
)
def test_section_slug(section: str, slug: str) -> None:
    assert section_slug(section) == slug


def test_feed_meta_urls() -> None:
    meta = FeedMeta(audience="ru", section="all", title="T", base_url="http://127.0.0.1:8000/", language="ru")
    assert meta.base_url == "http://127.0.0.1:8000"
    assert meta.url("rss") == "http://127.0.0.1:8000/feeds/ru/all.rss"
    assert meta.url("atom") == "http://127.0.0.1:8000/feeds/ru/all.atom"
    assert meta.url("json") == "http://127.0.0.1:8000/feeds/ru/all.json"
    with pytest.raises(UnknownFormatError, match="'xml'"):
        meta.url("xml")  # type: ignore[arg-type]


def test_notice_html_is_one_escaped_aside() -> None:
    html = content.notice_html(notice(text='A <b>"bold"</b> & claim', url='https://x.example/?a=1&b="2"'))
    assert html == (
        '<aside class="geo-notice" data-notice="rferl-undesirable-ru" lang="ru">'
        '<p>A &lt;b&gt;"bold"&lt;/b&gt; &amp; claim '
        '<a href="https://x.example/?a=1&amp;b=&quot;2&quot;">Подробнее</a></p></aside>'
    )


def test_notice_html_without_url_has_no_link() -> None:
    assert "<a " not in content.notice_html(notice(url=None))


@pytest.mark.parametrize(
    ("placement", "first", "last"),
    [("start", "<aside", "</p>"), ("end", "<p>", "</aside>")],
    ids=["start", "end"],
)
def test_item_html_places_notice(placement: str, first: str, last: str) -> None:
    html = content.item_html(item([notice(placement=placement)]))
    assert html.startswith(first)
    assert html.endswith(last)
    assert html.count('data-notice="rferl-undesirable-ru"') == 1


def test_item_html_notice_once_even_if_attached_twice_or_present_in_body() -> None:
    body = '<aside class="geo-notice" data-notice="rferl-undesirable-ru" lang="ru">old</aside><p>x</p>'
    html = content.item_html(item([notice(), notice()], body_html=body))
    assert html.count("data-notice=") == 1
    assert html.count('class="geo-notice"') == 1


def test_item_html_without_notices_is_the_body() -> None:
    html = content.item_html(item())
    assert html == "<p>First paragraph.</p><p>Second paragraph.</p>"


def test_item_html_sanitizes_hostile_body() -> None:
    html = content.item_html(
        item(body_html="<p onclick='x()'>a</p><script>alert(1)</script>]]></content>\x0b")
    )
    assert "<script" not in html
    assert "onclick" not in html
    assert "\x0b" not in html
    assert "]]&gt;" in html


def test_item_text_has_notices_in_place() -> None:
    text = content.item_text(item([notice(placement="end", url=None)]))
    assert text == "First paragraph.\n\nSecond paragraph.\n\nНежелательная организация"


@pytest.mark.parametrize(
    ("overrides", "summary"),
    [
        ({}, "Summary."),
        ({"summary": ""}, "First paragraph."),
        ({"summary": "", "body_text": ""}, "Title"),
        ({"summary": "  ", "body_text": "", "title": ""}, "art-1"),
    ],
    ids=["own", "first-paragraph", "title", "id"],
)
def test_item_summary_never_empty(overrides: dict[str, object], summary: str) -> None:
    assert content.item_summary(article(**overrides)) == summary


def test_summary_text_carries_each_notice_once_in_place() -> None:
    start, end = notice(), notice(id="other", text="Второе", placement="end", url=None)
    text = content.summary_text(item([start, end, start]))
    assert text == f"{start.text}\n\nSummary.\n\nВторое"
    assert content.summary_text(item()) == "Summary."


def test_restricted_countries_keeps_iso_countries_only() -> None:
    regions = ["UA", "RU", "UA-43", "ru", "XX", "EUR"]
    assert content.restricted_countries(article(restricted_regions=regions)) == ["ru", "ua"]


def test_dates_are_utc_and_never_the_clock() -> None:
    moscow = timezone(timedelta(hours=3))
    local = article(published_at=datetime(2021, 6, 1, 15, 0, 0, 123, tzinfo=moscow))
    assert content.published(local) == datetime(2021, 6, 1, 12, tzinfo=UTC)
    assert content.updated(local) == datetime(2021, 6, 1, 12, tzinfo=UTC)
    assert content.updated(article()) == content.EPOCH
    assert content.feed_updated([]) == content.EPOCH


def test_ordered_newest_first_then_id() -> None:
    day = datetime(2021, 6, 1, tzinfo=UTC)
    items = [
        item(id="b", published_at=day),
        item(id="old", published_at=day - timedelta(days=1)),
        item(id="a", published_at=day),
        item(id="new", published_at=day + timedelta(days=1)),
    ]
    assert [i.article.id for i in content.ordered(items)] == ["new", "a", "b", "old"]


def test_categories_section_then_tags_once() -> None:
    assert content.categories(article(section="World", tags=["NATO", "World", " "])) == ["World", "NATO"]


def test_feeds_package_imports_no_worker_internals() -> None:
    """feeds/ may use worker.models, worker.names and worker.allowlist (the bottom of the ladder)
    only: never Celery, Redis or the rest of worker/."""
    import ast
    from pathlib import Path

    forbidden = []
    for path in Path(content.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top in {"celery", "redis", "kombu"} or (
                    top == "worker" and name not in {"worker.models", "worker.names", "worker.allowlist"}
                ):
                    forbidden.append(f"{path.name}: {name}")
    assert forbidden == []
