"""Canonical URLs, ids, content hashes, format sniffing, language tags."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from worker.normalize import NormalizeError, article_id, canonical_url, content_hash, detect_format
from worker.normalize.identity import fallback_key
from worker.normalize.language import detect_language, normalize_tag


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.rferl.org/a/x.html?utm_source=a&utm_medium=b", "https://www.rferl.org/a/x.html"),
        ("HTTPS://WWW.RFERL.ORG/A/X.html#comments", "https://www.rferl.org/A/X.html"),
        ("https://e.org/p?id=5&fbclid=1&gclid=2&mc_cid=3&mc_eid=4&page=2", "https://e.org/p?id=5&page=2"),
        ("https://e.org/p?yclid=1&_ga=2&igshid=3&UTM_Campaign=4&msclkid=5", "https://e.org/p"),
        ("https://e.org/p?q=a%20b&x=1/2", "https://e.org/p?q=a%20b&x=1/2"),
        ("http://e.org:80/p", "http://e.org/p"),
        ("https://e.org:443", "https://e.org/"),
        ("https://e.org:8443/p", "https://e.org:8443/p"),
        ("//e.org/p", "https://e.org/p"),
        ("  https://e.org/p  ", "https://e.org/p"),
    ],
    ids=[
        "utm", "case-and-fragment", "click-ids", "more-trackers", "encoding-kept", "http-port", "https-port",
        "other-port", "protocol-relative", "spaces",
    ],
)  # fmt: skip
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected
    assert canonical_url(expected) == expected  # idempotent


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "ftp://e.org/x", "/relative/path", "https://", "http://[::1"]
)
def test_canonical_url_refuses_non_http(url: str) -> None:
    with pytest.raises(NormalizeError, match="url: "):
        canonical_url(url)


def test_article_id_is_stable_and_url_safe() -> None:
    first = article_id("rferl", "https://www.rferl.org/a/1.html")
    assert first == article_id("rferl", "https://www.rferl.org/a/1.html")
    assert re.fullmatch(r"rferl-[0-9a-f]{20}", first)
    assert first != article_id("rferl", "https://www.rferl.org/a/2.html")
    assert first != article_id("other", "https://www.rferl.org/a/1.html")
    assert re.fullmatch(r"[a-z0-9-]+", article_id("RFE/RL Ünïcode", "k"))


def test_fallback_key_uses_title_and_date() -> None:
    when = datetime(2021, 6, 1, tzinfo=UTC)
    assert fallback_key("A  Title", when) == fallback_key("a title", when)
    assert fallback_key("A Title", when) != fallback_key("A Title", None)


def test_content_hash_changes_with_each_field() -> None:
    when = datetime(2021, 6, 1, tzinfo=UTC)
    base = content_hash("t", "b", when, None)
    assert base == content_hash("t", "b", when, None)
    assert len({base, content_hash("T", "b", when, None), content_hash("t", "B", when, None),
                content_hash("t", "b", None, None), content_hash("t", "b", when, when)}) == 5  # fmt: skip


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"title": "x"}', "json"),
        ('  \ufeff{"title": ', "json"),  # broken JSON is still JSON: the error then says where
        ("[1, 2]", "json"),
        ("[Updated] Headline\n- By X", "text"),
        ("<!DOCTYPE html><html><body>x</body></html>", "html"),
        ("<p>fragment</p>", "html"),
        ("Plain text with 5 < 6 and a > b.\n- By X", "text"),
        ("", "text"),
    ],
    ids=["object", "broken-object", "array", "bracket-text", "page", "fragment", "angle-brackets", "empty"],
)
def test_detect_format(body: str, expected: str) -> None:
    assert detect_format(body) == expected


@pytest.mark.parametrize(
    ("tag", "expected"),
    [("EN", "en"), ("en_us", "en-US"), ("sr-latn-rs", "sr-Latn-RS"), ("es-419", "es-419"), ("x", None),
     ("english language", None), ("", None)],
)  # fmt: skip
def test_normalize_tag(tag: str, expected: str | None) -> None:
    assert normalize_tag(tag) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The alliance said its withdrawal from the country was progressing in an orderly way.", "en"),
        ("Альянс заявил, что вывод войск из страны проходит организованно и по плану.", "ru"),
        ("12345 !!!", "und"),
    ],
)
def test_detect_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected
