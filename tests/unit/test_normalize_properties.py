"""Property tests: any text either normalizes to a clean article or raises NormalizeError."""

from __future__ import annotations

import json
import re
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from worker.models import Article, RawInput
from worker.normalize import NormalizeError, detect_format, normalize

XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Every code point (lone surrogates and controls too), plus the troublemakers more often.
NASTY = ["\x0b", "\x08", "\x01", "\x00", "\ufffe", "\ud800", "\u200b", "\u200c", "\r", "\u0301", "\x85"]
ANY_TEXT = st.text(
    alphabet=st.one_of(st.characters(exclude_categories=()), st.sampled_from(NASTY)), max_size=200
)
PROFILE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(article: Article) -> None:
    fields = [
        article.id,
        article.source,
        article.url or "",
        article.title,
        article.language,
        article.section or "",
        article.summary,
        article.body_text,
        article.body_html,
        *article.authors,
        *article.tags,
    ]
    for field in fields:
        assert not XML_FORBIDDEN.search(field), repr(field)
        assert unicodedata.is_normalized("NFC", field), repr(field)
    assert article.title.strip() and article.body_text.strip()
    assert re.fullmatch(r"[a-z0-9-]+", article.id)


@PROFILE
@given(ANY_TEXT)
def test_any_text_is_an_article_or_a_normalize_error(body: str) -> None:
    try:
        article = normalize(RawInput(format="text", body=body))
    except NormalizeError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("text: ")
    else:
        _check(article)


@PROFILE
@given(ANY_TEXT, ANY_TEXT, ANY_TEXT, ANY_TEXT)
def test_shaped_text_with_junk_is_clean(body: str, title: str, author: str, tail: str) -> None:
    """Text shaped like a page (body, headline, byline) but full of junk characters."""
    page = f"{body}\nFirst paragraph {body}.\n{title} headline\n- By {author} x\n{tail}"
    try:
        article = normalize(RawInput(format="text", body=page))
    except NormalizeError as exc:
        assert "\n" not in str(exc)
    else:
        _check(article)
        assert article.title.endswith("headline")


@settings(max_examples=40, deadline=None)
@given(ANY_TEXT)
def test_detect_format_always_answers(body: str) -> None:
    assert detect_format(body) in {"text", "html", "json"}


MARKUP = st.sampled_from(
    ["<p>", "</p>", "<html>", "<body>", "<article>", "<h1>", "</h1>", "<script>", "<!--", "<br>", "&amp;",
     "&#0;", "&#xD800;", "<?xml version='1.0'?>", "<meta property='og:title' content='", "'>"]
)  # fmt: skip
FIELDS = st.sampled_from(
    ["title", "body_text", "body_html", "authors", "tags", "published_at", "url", "restricted_regions",
     "guid", "summary", "language", "section", "source"]
)  # fmt: skip
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3),
    max_leaves=6,
)


@PROFILE
@given(st.lists(st.one_of(MARKUP, ANY_TEXT), max_size=25).map("".join))
def test_any_markup_is_an_article_or_a_normalize_error(page: str) -> None:
    try:
        article = normalize(RawInput(format="html", body=page))
    except NormalizeError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("html: ")
    else:
        _check(article)


@PROFILE
@given(st.dictionaries(FIELDS, JSON_VALUES, max_size=8))
def test_any_cms_object_is_an_article_or_a_normalize_error(fields: dict[str, object]) -> None:
    try:
        article = normalize(RawInput(format="json", body=json.dumps({"title": "T", "body": "x", **fields})))
    except NormalizeError as exc:
        assert "\n" not in str(exc)
    else:
        _check(article)
