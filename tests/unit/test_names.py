"""One section slug and one feed key: feed keys, notice matching and subscription filters agree."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from feeds.feedkey import FeedKey, FeedKeyError
from worker.ingest import plan_ingest
from worker.models import Article, Audience, Notice, NoticeText, Subscription
from worker.names import region_code, section_slug
from worker.notices import withheld_regions

AT = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
AUDIENCES = [
    Audience(id="global", language="en", default=True),
    Audience(id="ru", language="ru", regions=["RU"]),
]


def finance_article() -> Article:
    return Article(
        id="rferl-1",
        source="rferl",
        title="Title",
        language="en",
        section="ﬁnance",  # "fi" is one character here: U+FB01, the ligature
        body_text="Body.",
        body_html="<p>Body.</p>",
        content_hash="h1",
    )


def test_a_ligature_section_meets_a_withhold_notice_and_a_filter_for_its_plain_spelling() -> None:
    withhold = Notice(
        id="w", texts={"en": NoticeText(text="-")}, regions=["RU"], sections=["Finance"], withhold=True
    )
    article = finance_article()
    assert withheld_regions(article, [withhold], date(2026, 11, 28)) == {"RU"}
    sub = Subscription(
        id="s1",
        url="https://example.com/h",
        audience="global",
        created_at=AT,
        secrets=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
        sections=["Finance"],
    )
    commit = plan_ingest(
        article,
        None,
        audiences=AUDIENCES,
        notices=[withhold],
        subscriptions={"global": [sub]},
        at=AT,
        payload_cap=1 << 20,
    )
    assert commit is not None
    assert commit.section == ("finance", "ﬁnance")
    assert "global:finance" in commit.index_add and "ru:finance" in commit.index_remove  # withheld in RU
    assert commit.audiences == ["global"]
    assert [d.subscription_id for d in commit.deliveries] == ["s1"]


@pytest.mark.parametrize(
    ("name", "slug"),
    [("Finance", "finance"), ("ﬁnance", "finance"), ("Afghanistan/Pakistan", "afghanistan-pakistan"),
     ("Мир", "мир"), ("  Asia_Pacific ", "asia-pacific")],
)  # fmt: skip
def test_section_slug(name: str, slug: str) -> None:
    assert section_slug(name) == slug


def test_region_code() -> None:
    assert region_code(" ua-43 ") == "UA-43"


@pytest.mark.parametrize("text", ["ru/all", "ru/world@3", "global/all~ua", "ru/мир"])
def test_feed_key_round_trips(text: str) -> None:
    assert str(FeedKey.parse(text)) == text


def test_feed_key_spellings() -> None:
    key = FeedKey.of_section("ru", "Afghanistan/Pakistan")
    assert str(key) == "ru/afghanistan-pakistan" and key.index == "ru:afghanistan-pakistan"
    assert FeedKey.from_index(key.index) == key
    page = key.archive(3)
    assert str(page) == "ru/afghanistan-pakistan@3" and page.current == key
    assert page.path == "ru/afghanistan-pakistan/archive/3"
    assert page.url("http://h/", "atom") == "http://h/feeds/ru/afghanistan-pakistan/archive/3.atom"
    variant = FeedKey("global").with_variant("UA")
    assert str(variant) == "global/all~ua" and variant.export_path == "global/all~ua"
    assert variant.url("http://h", "rss") == "http://h/feeds/global/all.rss"  # served at its audience's URL
    assert (
        FeedKey("ru", "мир").url("http://h", "rss", encoded=True)
        == "http://h/feeds/ru/%D0%BC%D0%B8%D1%80.rss"
    )


@pytest.mark.parametrize("text", ["ru", "ru/", "/all", "ru/all@0", "ru/all@x"])
def test_feed_key_refuses(text: str) -> None:
    with pytest.raises(FeedKeyError, match="expected AUDIENCE/SECTION"):
        FeedKey.parse(text)
