"""Caps on every field a source controls (issue #14): refused with a message naming the field, the
size and the limit, or cut as the README documents; bidi controls removed; URLs percent-encoded."""

from __future__ import annotations

import json

import pytest

from worker.models import RawInput
from worker.normalize import NormalizeError, limits, normalize
from worker.normalize.urls import canonical_url

BODY = "Body text of the article."


def cms(**fields: object) -> RawInput:
    doc = {"guid": "g-1", "source": "rferl", "title": "A headline", "body_text": BODY, **fields}
    return RawInput(format="json", body=json.dumps(doc))


def test_forty_thousand_tags_keep_the_first_fifty_distinct_ones_in_order() -> None:
    tags = [f"Tag {i % 20_000}" for i in range(40_000)]  # every tag twice
    tags[1] = "TAG 0"  # a repeat that differs in case only
    article = normalize(cms(tags=tags))
    assert article.tags == ["Tag 0"] + [f"Tag {i}" for i in range(2, 51)]
    assert len(article.tags) == limits.MAX_TAGS


def test_a_long_tag_is_cut_at_a_word_boundary() -> None:
    long_tag = " ".join(["word"] * 100)  # 499 characters
    article = normalize(cms(tags=[long_tag, "Short"]))
    assert len(article.tags[0]) <= limits.MAX_TAG
    assert article.tags[0].endswith("word") and article.tags[0].startswith("word word")
    assert article.tags[1] == "Short"


def test_authors_are_capped_and_each_name_cut() -> None:
    authors = [f"Reporter {i}" for i in range(1000)] + ["x" * 10_000]
    article = normalize(cms(authors=["y" * 10_000, *authors]))
    assert len(article.authors) == limits.MAX_AUTHORS
    assert article.authors[0] == "y" * limits.MAX_AUTHOR
    assert article.authors[1:] == [f"Reporter {i}" for i in range(limits.MAX_AUTHORS - 1)]


@pytest.mark.parametrize(
    ("field", "value", "size", "limit"),
    [
        ("title", "t" * 1_000_000, "1,000,000", "1,000"),
        ("url", "https://www.rferl.org/a/" + "x" * 5000, "5,024", "2,048"),
        ("section", "Раздел " * 50, "349", "256"),
        ("source", "s" * 300, "300", "64"),
    ],
)
def test_an_oversized_field_is_refused_naming_field_size_and_limit(
    field: str, value: str, size: str, limit: str
) -> None:
    with pytest.raises(NormalizeError) as err:
        normalize(cms(**{field: value}))
    message = str(err.value)
    assert message.startswith(f"{field}: {size} characters is over the limit of {limit}"), message
    assert len(message) < 200 and "\n" not in message


def test_caller_metadata_is_capped_too() -> None:
    doc = json.dumps({"guid": "g-2", "title": "A headline", "body_text": BODY})
    raw = RawInput(format="json", body=doc, url="https://x.org/" + "p" * 3000, section="s" * 300)
    with pytest.raises(NormalizeError, match=r"^url: 3,014 characters is over the limit of 2,048"):
        normalize(raw)
    with pytest.raises(NormalizeError, match=r"^section: 300 characters is over the limit of 256"):
        normalize(raw.model_copy(update={"url": None}))


def test_a_section_of_200_cyrillic_letters_is_accepted() -> None:
    assert normalize(cms(section="ж" * 200)).section == "ж" * 200


def test_a_long_summary_is_cut_at_a_word_boundary_with_an_ellipsis() -> None:
    article = normalize(cms(summary="word " * 10_000))
    assert len(article.summary) <= limits.MAX_SUMMARY
    assert article.summary.endswith("word…")


def test_a_long_first_paragraph_does_not_make_a_long_summary() -> None:
    article = normalize(cms(body_text="lorem ipsum " * 50_000))
    assert len(article.summary) <= limits.MAX_SUMMARY
    assert len(article.body_text) > 500_000  # the body itself is not cut


BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def test_bidi_controls_are_removed_from_titles_and_names_but_not_the_body() -> None:
    article = normalize(
        cms(
            title="Breaking\u202e news\u202c",
            authors=["Jane\u2067 Doe\u2069", "\u202eeod nhoj"],
            section="Wor\u202dld",
            tags=["NA\u2066TO", "NATO", BIDI],
            summary="A \u202esummary",
            body_text="Body with an isolate \u2067عربي\u2069 in it.",
        )
    )
    assert article.title == "Breaking news"
    assert article.authors == ["Jane Doe", "eod nhoj"]
    assert article.section == "World"
    assert article.tags == ["NATO"]  # the controls gone, the repeat dropped, the empty one too
    assert article.summary == "A summary"
    assert "\u2067" in article.body_text  # right-to-left prose keeps its isolates
    for value in [article.title, article.summary, article.section, *article.authors, *article.tags]:
        assert not any(c in BIDI for c in value or "")


def test_a_title_of_only_bidi_controls_is_refused() -> None:
    with pytest.raises(NormalizeError, match=r"^(json|title): "):
        normalize(cms(title=BIDI))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            'https://www.rferl.org/a/"><script>alert(1)</script>.html?q="><b>',
            "https://www.rferl.org/a/%22%3E%3Cscript%3Ealert(1)%3C/script%3E.html?q=%22%3E%3Cb%3E",
        ),
        ("https://www.rferl.org/a/it's.html", "https://www.rferl.org/a/it%27s.html"),
        (
            "https://www.svoboda.org/a/новости.html",
            "https://www.svoboda.org/a/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8.html",
        ),
        ("https://www.rferl.org/a/100%/x%2Fy", "https://www.rferl.org/a/100%25/x%2Fy"),
        ("https://пример.рф/a", "https://xn--e1afmkfd.xn--p1ai/a"),
        ("https://www.rferl.org/a/b.html?x=1&y=2", "https://www.rferl.org/a/b.html?x=1&y=2"),
    ],
)
def test_urls_are_percent_encoded_and_stay_so(url: str, expected: str) -> None:
    assert canonical_url(url) == expected
    assert canonical_url(expected) == expected  # idempotent: a stored URL does not change again


def test_a_host_with_markup_in_it_is_refused() -> None:
    with pytest.raises(NormalizeError, match=r"^url: "):
        canonical_url('https://exa"><script>mple.org/')


def test_an_article_within_bounds_is_unchanged() -> None:
    article = normalize(cms(tags=["NATO", "Kabul"], authors=["Jane Doe"], summary="Short."))
    assert limits.bound(article) == article
