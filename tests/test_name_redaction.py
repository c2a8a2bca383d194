"""A child's own name must not survive in stored excerpts, reports and cases (5b): the phrasings the red
team found leaking, recall on the labelled set (evalsets/names, 16 languages, >= 95 %), ordinary
sentences that must stay as written, and the cost on held-out ordinary text."""

from __future__ import annotations

from pathlib import Path

import pytest

from childguard.name_evaluation import benign_texts, cost, load_rows, recall
from childguard.name_redaction import name_spans, normal_view
from childguard.redaction import redact_personal_data

ROOT = Path(__file__).resolve().parents[1]
BENIGN = ROOT.parent / "shared" / "data" / "benign"

LEAKED_ON_MAIN = [
    ("i am Sophie Miller", ["Sophie", "Miller"]), ("I'm Sophie", ["Sophie"]), ("im sophie", ["sophie"]),
    ("my names sophie", ["sophie"]), ("call me Soph", ["Soph"]), ("this is Sophie", ["Sophie"]),
    ("name: Sophie Miller", ["Sophie", "Miller"]), ("my surname is Okonkwo", ["Okonkwo"]),
    ("my nickname is Bubbles", ["Bubbles"]), ("je suis Léa", ["Léa"]), ("soy Lucía", ["Lucía"]),
    ("ich bin Max", ["Max"]), ("я Маша", ["Маша"]), ("naitwa Amani", ["Amani"]),
    ("my n\u200bame is Sophie", ["Sophie"]), ("my nаme is Sophie", ["Sophie"]),  # zero-width; Cyrillic а
    ("my name is Z0rbina", ["Z0rbina", "0rbina"]), ("ｍｙ ｎａｍｅ ｉｓ Ava", ["Ava"]),
    ("nama saya Budi", ["Budi"]), ("benim adım Ayşe", ["Ayşe"]), ("tên tôi là Minh", ["Minh"]),
    ("mi chiamo Giulia", ["Giulia"]), ("আমার নাম রাহুল", ["রাহুল"]), ("제 이름은 민수입니다", ["민수"]),
]


@pytest.mark.parametrize(("text", "names"), LEAKED_ON_MAIN)
def test_the_phrasings_that_leaked_are_redacted(text: str, names: list[str]) -> None:
    out = redact_personal_data(text)
    assert "[private]" in out
    assert not any(n in out for n in names), out


@pytest.mark.parametrize("text", [
    "I'm tired", "im going home", "I am so happy today", "call me later", "this is awesome", "soy feliz",
    "je suis fatigué", "ich bin müde", "я иду домой", "my name is not important", "it's raining",
    "Im Theater war es gestern Abend sehr kalt und wir sind früh nach Hause gegangen", "saya makan nasi",
    "I'm 11 and I like cats",
])
def test_ordinary_sentences_stay_as_written(text: str) -> None:
    assert redact_personal_data(text) == text


def test_a_lead_in_of_another_language_does_not_fire_where_the_language_is_certain() -> None:
    """Known limit: a short German "Im Theater" (CLD2 unsure) loses "Theater" to the English "im" hint;
    over-redaction, never a leak."""
    assert redact_personal_data("Ben Carter said that his team would win the cup again this year, and it did") == \
        "Ben Carter said that his team would win the cup again this year, and it did"


def test_the_rest_of_the_text_is_kept_as_written() -> None:
    text = "hi\u200b!! my nаme is Sophie Miller and i'm 11 ☺"
    assert redact_personal_data(text) == "hi\u200b!! my nаme is [private] and i'm 11 ☺"
    view, index = normal_view("ｍｙ\u200bname")
    assert view == "myname" and index == [0, 1, 3, 4, 5, 6]
    assert name_spans("") == [] and name_spans("\u200b" * 5) == []


@pytest.mark.parametrize("text", ["I am Sophie \ud800 and more text here, long enough for language detection",
                                  "\x00\x01 im sophie", "", "\udfff" * 50, "my name is \U0001f600"])
def test_hostile_text_gets_a_redaction_not_a_crash(text: str) -> None:
    out = redact_personal_data(text)
    assert "Sophie" not in out and "sophie" not in out


def test_recall_on_the_labelled_set_is_at_least_95_percent() -> None:
    rows = load_rows(ROOT / "evalsets" / "names")
    assert len(rows) >= 500 and len({r.lang for r in rows}) == 16
    report = recall(rows)
    assert report.recall >= 0.95, report.misses
    assert all(ok / n >= 0.8 for ok, n in report.per_language.values()), report.per_language


@pytest.mark.skipif(not BENIGN.is_dir(), reason="../shared/data/benign is not here")
def test_cost_on_held_out_ordinary_text_stays_below_one_percent() -> None:
    texts = [t for lang in ("en", "fr", "de", "ru", "id", "ar") for t in benign_texts(BENIGN, lang, 250)]
    assert len(texts) > 1000
    assert cost(texts).rate < 0.01
