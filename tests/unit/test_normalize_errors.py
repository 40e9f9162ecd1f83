"""Bad input: one NormalizeError per problem, with a one-line message naming it."""

from __future__ import annotations

import json
import re

import pytest

from worker.models import RawInput, SourceFormat
from worker.normalize import NormalizeError, normalize

OK_BODY = "Body text."


def _json(**fields: object) -> str:
    return json.dumps(fields)


CASES: list[tuple[str, SourceFormat, str, str]] = [
    ("text-empty", "text", "", "text: input is empty"),
    ("text-blank", "text", " \n\t\r\n ", "text: input is empty"),
    ("text-only-junk", "text", "\x00\x0b\u200b\ufeff", "text: input is empty"),
    ("html-empty", "html", "   ", "html: input is empty"),
    ("json-empty", "json", "", "json: input is empty"),
    ("text-no-byline", "text", "A paragraph.\nAnother paragraph.", "text: no headline line found"),
    ("text-byline-first", "text", "- By Jane Doe\nA paragraph.", "text: no headline line found"),
    ("text-no-body", "text", "Headline\n- By Jane Doe", "text: no article text found"),
    ("json-broken", "json", '{"title": "x",\n  "body_text": "y"\n  "a": 1}',
     "json: invalid JSON at line 3 column 3: Expecting ',' delimiter"),
    ("json-array", "json", "[1, 2]", "json: expected a JSON object, got an array"),
    ("json-string", "json", '"title"', "json: expected a JSON object, got a string"),
    ("json-no-title", "json", _json(body_text=OK_BODY), "json: field 'title' is missing"),
    ("json-blank-title", "json", _json(title=" &nbsp; ", body_text=OK_BODY), "json: field 'title' is empty"),
    ("json-title-type", "json", _json(title=42, body_text=OK_BODY),
     "json: field 'title' has 42 (expected a string)"),
    ("json-no-body", "json", _json(title="T"), "json: no article body"),
    ("json-empty-body", "json", _json(title="T", body_html="<script>x</script>"),
     "json: the article body is empty"),
    ("json-bodiless-document", "json", _json(title="T", body_html="<html></html>"),
     "json: the article body is empty"),
    ("json-head-only", "json", _json(title="T", body_html="<html><head><title>x</title></head></html>"),
     "json: the article body is empty"),
    ("json-authors-type", "json", _json(title="T", body_text=OK_BODY, authors=7),
     "json: field 'authors' has 7 (expected a list of names or one string)"),
    ("json-bad-date", "json", _json(title="T", body_text=OK_BODY, published_at="yesterday"),
     "json: field 'published_at' has 'yesterday'"),
    ("json-bad-region", "json", _json(title="T", body_text=OK_BODY, restricted_regions=["Russia"]),
     "json: field 'restricted_regions' has 'Russia'"),
    ("json-bad-url", "json", _json(title="T", body_text=OK_BODY, url="javascript:alert(1)"),
     "json: field 'url' has 'javascript:alert(1)'"),
    ("html-no-article", "html", "<html><body><nav><a href='/'>Home</a></nav></body></html>",
     "html: no article text found in the page"),
]  # fmt: skip


@pytest.mark.parametrize(("fmt", "body", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(fmt: SourceFormat, body: str, message: str) -> None:
    with pytest.raises(NormalizeError) as info:
        normalize(RawInput(format=fmt, body=body))
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"url": "ftp://e.org/x"}, "url: 'ftp://e.org/x' is not an absolute http(s) URL"),
        ({"published_at": "soon"}, "published_at: 'soon' is not a date"),
        ({"language": "not a tag"}, "language: 'not a tag' is not a BCP 47 language tag"),
    ],
    ids=["url", "published_at", "language"],
)
def test_bad_caller_metadata(fields: dict[str, str], message: str) -> None:
    with pytest.raises(NormalizeError, match="^" + re.escape(message)):
        normalize(RawInput(format="text", body="Body.\nHeadline\n- By X", **fields))
