"""Property tests: any text either normalizes to a clean article or raises NormalizeError."""

from __future__ import annotations

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
