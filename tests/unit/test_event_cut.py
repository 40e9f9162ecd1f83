"""The webhook payload cap holds for the whole event, whatever the article (worker.event_cut).

Articles are built directly, bypassing normalization and its caps: the cut must hold on its own.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from worker.event_cut import CUT_ORDER, fit_event
from worker.events import event_body
from worker.models import EVENT_TYPES, Article, AttachedNotice, AudienceArticle, EventType
from worker.settings import MIN_PAYLOAD_CAP, Settings

AT = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
CAP = 262144
NOTICE = AttachedNotice(
    id="rferl-undesirable-ru",
    language="ru",
    text="Радио Свобода признано нежелательной организацией.",
    url=None,
)


def article(**fields: Any) -> Article:
    base: dict[str, Any] = {
        "id": "rferl-0123456789abcdef0123",
        "source": "rferl",
        "url": "https://www.rferl.org/a/story/1.html",
        "title": "A story",
        "language": "en",
        "body_text": "Body.",
        "body_html": "<p>Body.</p>",
        "content_hash": "h1",
        "published_at": AT,
    }
    return Article(**{**base, **fields})


def body_for(a: Article, cap: int = CAP, event: EventType = "article.published") -> dict[str, Any]:
    raw = event_body(event, AudienceArticle(audience="ru", article=a, notices=[NOTICE]), AT, payload_cap=cap)
    assert len(raw) <= cap, f"{len(raw)} bytes over the cap of {cap}"
    return dict(json.loads(raw))


def test_a_one_megabyte_title_is_shortened_under_the_cap() -> None:
    title = "Заголовок " * 100_000  # about 1.9 MB of UTF-8
    doc = body_for(article(title=title, summary="A summary", tags=["a", "b"], body_text="x " * 1000))
    a = doc["data"]["article"]
    assert doc["data"]["truncated"] == ["body_html", "body_text", "summary", "tags", "title"]
    assert a["truncated"] is True
    assert a["title"].endswith("…") and title.startswith(a["title"][:-1]) and len(a["title"]) > 1000
    assert "body_html" not in a and a["body_text"] == "" and a["summary"] == "" and a["tags"] == []
    # What a receiver needs to fetch the article, and the legal notice, stay.
    assert a["id"] == "rferl-0123456789abcdef0123" and a["url"] == "https://www.rferl.org/a/story/1.html"
    assert [n["text"] for n in a["notices"]] == [NOTICE.text]


def test_fields_are_cut_in_order_and_only_as_far_as_needed() -> None:
    a = article(tags=["t" * 1000] * 300, summary="s" * 1000, body_text="b" * 1000, authors=["x"])
    doc = body_for(a)
    assert doc["data"]["truncated"] == ["body_html", "body_text", "summary", "tags"]
    assert doc["data"]["article"]["authors"] == ["x"] and doc["data"]["article"]["title"] == "A story"


def test_a_withdrawn_event_with_a_huge_title_fits_too() -> None:
    doc = body_for(article(title="t" * 2_000_000), event="article.withdrawn")
    assert doc["data"]["truncated"] == ["title"] and doc["type"] == "article.withdrawn"


def test_any_other_field_is_cut_largest_first_when_the_named_ones_are_not_enough() -> None:
    doc = body_for(article(url="https://x.org/" + "a" * 500_000, section="s" * 300_000))
    a = doc["data"]["article"]
    assert doc["data"]["truncated"] == ["body_html", "body_text", "url", "section"]
    assert a["url"] is None and a["section"] is None and a["title"] == "A story"


def test_fields_unknown_to_the_cut_are_covered_by_the_generic_fallback() -> None:
    """A field added to the article later (an image, a gallery) cannot break the cap."""
    doc: dict[str, Any] = {
        "id": "a1",
        "url": "https://x.org/1",
        "title": "t",
        "image": {"url": "https://x.org/i.jpg", "caption": "c" * 400_000},
        "gallery": ["g" * 1000] * 500,
        "notices": [],
    }

    def dump(a: dict[str, Any], cut: list[str]) -> bytes:
        return json.dumps({"data": {"article": a, "truncated": cut}}).encode()

    out = json.loads(fit_event(doc, dump, 4096))
    assert out["data"]["truncated"] == ["gallery", "image"]
    assert out["data"]["article"]["image"] is None and out["data"]["article"]["id"] == "a1"


def test_the_configuration_is_cut_last_when_nothing_else_is_left() -> None:
    huge = AttachedNotice(id="n", language="en", text="n" * 5000, url=None)
    raw = event_body(
        "article.published",
        AudienceArticle(audience="ru", article=article(), notices=[huge]),
        AT,
        payload_cap=MIN_PAYLOAD_CAP,
    )
    doc = json.loads(raw)
    assert len(raw) <= MIN_PAYLOAD_CAP
    assert doc["data"]["truncated"][-1] == "notices.text"
    assert doc["data"]["article"]["notices"] == [{"id": "n", "language": "en", "text": "", "url": None}]


def test_settings_refuse_a_cap_too_small_for_any_event() -> None:
    with pytest.raises(ValueError, match="100 bytes is too small for any webhook event: set at least 1024"):
        Settings.from_env({"SYNDICATE_WEBHOOK_PAYLOAD_CAP": "100"})


def test_the_order_is_the_documented_one() -> None:
    readme = " ".join((Path(__file__).parents[2] / "README.md").read_text().split())
    documented = "`body_html` is left out, then `body_text`, `summary`, `tags`, `authors`, then `title`"
    assert documented in readme
    assert CUT_ORDER == ("body_html", "body_text", "summary", "tags", "authors")


# -- property: no event exceeds the cap, whatever the article -------------------------------------

ALPHABET = st.sampled_from(['"', "\\", "\n", "\x01", "a", "é", "Ж", "…", "😀", "<p>", "&amp;", " "])
# Long strings from short pieces repeated: hypothesis stays fast while sizes reach 100s of KB.
big_text = st.builds(
    lambda parts, n: "".join(parts) * n, st.lists(ALPHABET, min_size=1, max_size=8), st.integers(0, 40_000)
)
small_text = st.text(max_size=30)
big_list = st.builds(lambda item, n: [item] * n, small_text, st.integers(0, 5000))


@st.composite
def articles(draw: st.DrawFn) -> Article:
    return article(
        id=draw(st.text(min_size=1, max_size=60)),
        source=draw(st.one_of(small_text, big_text)),
        url=draw(st.one_of(st.none(), big_text)),
        title=draw(big_text),
        authors=draw(big_list),
        tags=draw(big_list),
        summary=draw(big_text),
        body_text=draw(big_text),
        body_html=draw(big_text),
        section=draw(st.one_of(st.none(), big_text)),
        language=draw(small_text),
        content_hash=draw(small_text),
        detected_notices=draw(big_list),
        restricted_regions=draw(big_list),
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(a=articles(), cap=st.integers(MIN_PAYLOAD_CAP, 300_000), event=st.sampled_from(EVENT_TYPES))
def test_no_event_exceeds_the_cap_whatever_the_article(a: Article, cap: int, event: EventType) -> None:
    view = AudienceArticle(audience="ru", article=a, notices=[NOTICE])
    full = event_body(event, view, AT, payload_cap=10**12)
    raw = event_body(event, view, AT, payload_cap=cap)
    assert len(raw) <= cap
    doc = json.loads(raw)
    assert doc["type"] == event and doc["data"]["audience"] == "ru"
    if len(full) <= cap:
        assert raw == full and "truncated" not in doc["data"]
    else:
        assert doc["data"]["truncated"] and doc["data"]["article"]["truncated"] is True
        assert doc["data"]["article"]["id"] == a.id  # a short id always survives
