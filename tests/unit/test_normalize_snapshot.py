"""normalize() gives the same output as when the snapshot was taken, over a varied corpus.

The corpus (tests/normalize_corpus.py): the data files, the bench article, hostile markup and 300
generated bodies. A speed-up of normalization must leave every outcome as it was; an intended
change of output regenerates the snapshot (``python -m tests.normalize_corpus``) in its own commit.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests import normalize_corpus as corpus

SNAPSHOT: dict[str, Any] = json.loads(corpus.SNAPSHOT.read_text(encoding="utf-8"))
NAMED = corpus.named()


def test_the_corpus_is_the_one_snapshotted() -> None:
    assert sorted(name for name, _ in NAMED) == sorted(SNAPSHOT["named"])
    assert sorted(name for name, _ in corpus.generated()) == sorted(SNAPSHOT["generated"])


@pytest.mark.parametrize(("name", "raw"), NAMED, ids=[name for name, _ in NAMED])
def test_named_case_is_unchanged(name: str, raw: Any) -> None:
    assert corpus.outcome(raw) == SNAPSHOT["named"][name]
    assert corpus.digest(corpus.outcome(raw, with_notices=False)) == SNAPSHOT["without_notices"][name]


def test_generated_cases_are_unchanged() -> None:
    changed = [
        name
        for name, raw in corpus.generated()
        if corpus.digest(corpus.outcome(raw)) != SNAPSHOT["generated"][name]
    ]
    assert changed == []
