"""A case's excerpt redacts only a window of a long message (issue 18, item 1: CPU-heavy work that held
the interpreter lock): the result must be exactly that of redacting the whole text, and cheap."""

from __future__ import annotations

import random
import time

from childguard.redaction import redact_personal_data
from childguard.store.store import EXCERPT_CHARS, excerpt_of

PII = ["call me on 07700 900123", "mail sophie.miller@example.org", "i live at 12 Baker Street", "my name is Ava",
       "my password is hunter22", "Hauptstraße 5", "name: Zoe", "im sophie", "+44 20 7946 0958", "@kid_gamer99"]
FILLER = ["hello", "the", "cat", "and", "Haupt" + "a-" * 30, "x" * 120, "ok", "\n", "zu", "1"]


def test_windowed_excerpt_equals_redacting_everything() -> None:
    rng = random.Random(18)
    for _ in range(300):
        parts = [rng.choice(PII if rng.random() < 0.3 else FILLER) for _ in range(rng.randint(1, 900))]
        text = " ".join(parts)
        assert excerpt_of(text) == redact_personal_data(text)[:EXCERPT_CHARS]
    dense = " ".join(["call me on 07700 900123 or 07700 900124"] * 400)  # shrinks a lot: the fallback path
    assert excerpt_of(dense) == redact_personal_data(dense)[:EXCERPT_CHARS]


def test_a_long_word_excerpt_is_cheap() -> None:
    text = "i want to kill myself " + "Haupt" + "a-" * 20_000 + "straße 5"
    t0 = time.perf_counter()
    excerpt_of(text)
    assert time.perf_counter() - t0 < 0.05
