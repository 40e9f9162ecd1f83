"""An integer of more than Python's 4,300 digits in a JSON article is a NormalizeError naming the
field (it was a ValueError that reached HTTP as a 500 and the CLI as a traceback)."""

from __future__ import annotations

import pytest

from worker.models import RawInput
from worker.normalize import NormalizeError, detect_format, normalize
from worker.normalize.jsontext import MAX_INT_DIGITS, loads

HUGE = "9" * 5000


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ('{"title": "t", "body_text": "x", "published_at": HUGE}', "field 'published_at'"),
        ('{"title": "t", "body_text": "x", "updated_at": -HUGE}', "field 'updated_at'"),
        ('{"title": "t", "body_text": "x", "image": {"sizes": [1, HUGE]}}', "field 'image.sizes[1]'"),
        ('{"title": "t", "body_text": "x", "id": HUGE}', "field 'id'"),
    ],
)
def test_too_long_integer_names_its_field(body: str, where: str) -> None:
    with pytest.raises(NormalizeError) as caught:
        normalize(RawInput(format="json", body=body.replace("HUGE", HUGE), source="s"))
    message = str(caught.value)
    assert message.startswith(f"json: {where} holds a number of 5000 digits")
    assert f"limit of {MAX_INT_DIGITS} digits" in message


def test_numbers_within_the_limit_are_unchanged() -> None:
    edge = "9" * MAX_INT_DIGITS
    assert loads('{"a": EDGE, "b": -1, "c": 1.5, "d": [2]}'.replace("EDGE", edge)) == {
        "a": int(edge),
        "b": -1,
        "c": 1.5,
        "d": [2],
    }


def test_format_sniffing_survives_a_huge_number() -> None:
    assert detect_format(f"[{HUGE}]") == "text"
