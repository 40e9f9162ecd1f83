"""Notices already in the source: found and removed wherever and however they stand."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from worker.models import Notice, NoticeText, RawInput
from worker.normalize import normalize
from worker.normalize.detect import is_trailer, remove_notices, words

DATA = Path(__file__).resolve().parents[1] / "data"
NOTICES = [
    Notice.model_validate(n) for n in json.loads((DATA / "normalize" / "notices.json").read_text("utf-8"))
]
RFERL = NOTICES[0]
EN = RFERL.texts["en"].text
RU = RFERL.texts["ru"].text
SEED_LINES = (DATA / "rferl-nato-afghan-pullout.txt").read_text(encoding="utf-8").split("\n")
ARTICLE = SEED_LINES[:-3]  # the seed without its notice
PARAGRAPHS = json.loads((DATA / "rferl-nato-afghan-pullout.expected.json").read_text("utf-8"))["paragraphs"]
TRAILER = "To find out more, click here."


def _curly(text: str) -> str:
    return text.replace('"undesirable organization"', "“undesirable organization”")


def _run(lines: list[str]) -> tuple[list[str], list[str]]:
    article = normalize(RawInput(format="text", body="\n".join(lines)), NOTICES)
    return article.body_text.split("\n\n"), article.detected_notices


@pytest.mark.parametrize(
    "notice_lines",
    [
        [EN],
        [_curly(EN)],
        [EN, TRAILER],
        [EN + " " + TRAILER],
        textwrap.wrap(EN, 50),
        [*textwrap.wrap(_curly(EN), 33), TRAILER],
        [EN.upper()],
        ["  ".join(EN.replace(" ", "\t ").split("\t"))],
        [RU],
        [*textwrap.wrap(RU, 45), "Подробнее"],
        [RU.replace("«", '"').replace("»", '"').replace("е", "ё", 3)],
        ["Important notice", *textwrap.wrap(EN, 70)],
    ],
    ids=[
        "straight-quotes",
        "curly-quotes",
        "with-trailer",
        "trailer-same-line",
        "wrapped-50",
        "wrapped-curly-trailer",
        "upper-case",
        "odd-spacing",
        "russian",
        "russian-wrapped-trailer",
        "russian-straight-quotes-yo",
        "with-title",
    ],
)
@pytest.mark.parametrize("where", ["top", "middle", "bottom"])
def test_notice_found_and_removed(notice_lines: list[str], where: str) -> None:
    at = {"top": 0, "middle": 4, "bottom": len(ARTICLE)}[where]
    paragraphs, found = _run([*ARTICLE[:at], *notice_lines, *ARTICLE[at:]])
    assert found == ["rferl-undesirable-ru"]
    assert paragraphs == PARAGRAPHS


@pytest.mark.parametrize(
    "sentence",
    [
        'In 2024 Moscow declared RFE/RL an "undesirable organization," a label exposing readers to fines.',
        "Russia has labeled dozens of foreign media and NGOs as undesirable organizations since 2015.",
        "The Russian government said in a statement that RFE/RL has been declared an undesirable "
        "organization by the Russian government, a move the broadcaster's president called an attack "
        "on free media and on the millions of Russians who rely on it for independent news every week.",
        "Lawyers warned that people in Russia could face fines or imprisonment for sharing content.",
    ],
    ids=["mention", "plural", "quoted-first-sentence", "paraphrase"],
)
def test_news_sentences_about_the_notice_stay(sentence: str) -> None:
    paragraphs, found = _run([*ARTICLE[:3], sentence, *ARTICLE[3:]])
    assert found == []
    assert sentence in paragraphs
    assert len(paragraphs) == len(PARAGRAPHS) + 1


def test_two_languages_one_id() -> None:
    paragraphs, found = _run([RU, *ARTICLE, EN, TRAILER])
    assert found == ["rferl-undesirable-ru"]
    assert paragraphs == PARAGRAPHS


def test_notice_of_several_publishers_does_not_name_the_source() -> None:
    other = NOTICES[1].texts["en"].text
    article = normalize(RawInput(format="text", body="\n".join([*ARTICLE, other])), NOTICES)
    assert article.detected_notices == ["other-publisher-note"]
    assert article.source == "unknown"  # two publishers: no inference


def test_remove_notices_without_configuration_changes_nothing() -> None:
    blocks = ["a", EN, "b"]
    assert remove_notices(blocks, []) == (blocks, [])


def test_short_notice_is_matched_whole() -> None:
    notice = Notice(id="short", texts={"en": NoticeText(text="Paid content.")})
    kept, found = remove_notices(["Paid content", "Real news about paid content rules in the EU."], [notice])
    assert found == ["short"]
    assert kept == ["Real news about paid content rules in the EU."]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("To find out more, click here.", True),
        ("Click here to learn more", True),
        ("Подробнее", True),
        ("Чтобы узнать больше, нажмите здесь.", True),
        ("Click the button to continue", False),
        ("", False),
    ],
)
def test_trailer_lines(line: str, expected: bool) -> None:
    assert is_trailer(words(line)) is expected


def test_words_ignore_quotes_case_and_spacing() -> None:
    assert words('RFE/RL  has been "Undesirable"') == words("rfe/rl has\nbeen “undesirable”")
