"""The one error every normalization stage raises."""

from __future__ import annotations


class NormalizeError(ValueError):
    """The input cannot become an article; ``str(e)`` is one line naming the problem.

    Messages start with the part that failed: ``json: field 'title' is missing``,
    ``text: input is empty``, ``html: no article text found in the page``.
    """

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))
