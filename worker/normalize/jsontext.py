"""JSON text to Python values, with integers bounded before Python converts them.

``json.loads`` turns an integer of more than 4,300 digits into a ``ValueError`` that is not a
``JSONDecodeError`` (Python's guard against quadratic int parsing): callers that caught only the
latter answered a 500. Here such a number becomes a :class:`NormalizeError` naming the field,
the number's size and the limit.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from worker.normalize.errors import NormalizeError

# Python's own limit (0 means unlimited there; keep a bound anyway).
MAX_INT_DIGITS = sys.get_int_max_str_digits() or 4300


class _TooLong:
    """Stands in for an integer literal over the limit until its place in the document is known."""

    def __init__(self, digits: int) -> None:
        self.digits = digits


def loads(text: str) -> Any:
    """``json.loads`` of ``text``; ``JSONDecodeError`` and ``RecursionError`` as there, and
    :class:`NormalizeError` for an integer of more than ``MAX_INT_DIGITS`` digits."""
    too_long: list[_TooLong] = []

    def parse_int(literal: str) -> int | _TooLong:
        digits = len(literal) - literal.startswith("-")
        if digits <= MAX_INT_DIGITS:
            return int(literal)
        too_long.append(_TooLong(digits))
        return too_long[-1]

    doc = json.loads(text, parse_int=parse_int)
    found = _find(doc, "") if too_long else None
    if found is not None:
        where, number = found
        field = f"field {where!r}" if where else "the document"
        raise NormalizeError(
            f"json: {field} holds a number of {number.digits} digits, over the limit of "
            f"{MAX_INT_DIGITS} digits; send it as a string (dates: ISO 8601 or Unix seconds)"
        )
    return doc


def _find(value: Any, where: str) -> tuple[str, _TooLong] | None:
    """The first over-long integer in ``value`` and its path (``image.width``, ``tags[2]``)."""
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, _TooLong):
            return path, item
        if isinstance(item, dict):
            stack.extend((v, f"{path}.{k}" if path else str(k)) for k, v in reversed(list(item.items())))
        elif isinstance(item, list):
            stack.extend((v, f"{path}[{i}]") for i, v in reversed(list(enumerate(item))))
    return None
