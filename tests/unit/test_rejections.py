"""The one form of a rejection's reason, shared by the queue task, the CLI, the poller and ingest."""

from __future__ import annotations

from worker.normalize import NormalizeError
from worker.pipeline import reason_of


def test_a_reason_is_one_line_naming_the_item_first() -> None:
    reason = reason_of(NormalizeError("json: field 'title' is missing"), "source rferl: item 42")
    assert reason == "source rferl: item 42: json: field 'title' is missing"
    assert reason_of(ValueError("1 validation error\n  body: field required")) == "1 validation error"


def test_an_error_that_already_names_the_item_is_not_named_twice() -> None:
    assert reason_of("a.json: not an article", "a.json") == "a.json: not an article"


def test_an_empty_error_is_named_by_its_type() -> None:
    assert reason_of(ValueError()) == "ValueError"
