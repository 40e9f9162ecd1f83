"""The extraction bench scores as the data set's README says (4-word shingles with multiplicity)."""

from __future__ import annotations

import pytest

from tests.bench.extraction import page_scores, score


def test_identical_texts_score_one() -> None:
    assert page_scores("one two three four five", "one two three four five") == (1.0, 1.0)


def test_counts_with_multiplicity() -> None:
    truth = "a b c d a b c d"  # shingles: abcd x2, bcda, cdab, dabc
    predicted = "a b c d"  # abcd x1
    precision, recall = page_scores(predicted, truth)
    assert precision == 1.0 and recall == pytest.approx(1 / 5)


def test_empty_prediction_is_left_out_of_precision() -> None:
    assert page_scores("", "w x y z q") == (None, 0.0)
    assert score([("", "w x y z q"), ("w x y z q", "w x y z q")]) == {
        "f1": round(2 * 1.0 * 0.5 / 1.5, 4),
        "precision": 1.0,
        "recall": 0.5,
    }


def test_words_are_regex_words() -> None:
    assert page_scores("Hello, world! It's—fine.", "Hello world It s fine") == (1.0, 1.0)
