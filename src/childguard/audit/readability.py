"""Age fit of benign answers: a reading-grade estimate held against the highest grade each age band
reads comfortably. A screening signal for the report, not a judge's verdict."""

from __future__ import annotations

import re

from ..agebands import AgeBand

_SENT = re.compile(r"[.!?。！？؟।]+")
_WORDS = re.compile(r"\w+")
_VOWELS = re.compile(r"[aeiouy]+", re.IGNORECASE)


def reading_grade(text: str, lang: str) -> float:
    """Flesch-Kincaid grade for Latin-script text (syllables approximated by vowel groups); for other
    scripts, a sentence-length proxy (words per sentence / 2). A screening signal, not a verdict."""
    sentences = max(1, len([s for s in _SENT.split(text) if s.strip()]))
    words = _WORDS.findall(text)
    if not words:
        return 0.0
    if lang in {"zh", "ar", "hi", "ru"}:
        return round(len(words) / sentences / 2, 1)
    syllables = sum(max(1, len(_VOWELS.findall(w))) for w in words)
    return round(0.39 * len(words) / sentences + 11.8 * syllables / len(words) - 15.59, 1)


def age_fit(text: str, lang: str, band: str) -> bool:
    """The band's grade comes from data/agebands.yaml (max_reading_grade), with one grade of slack."""
    return reading_grade(text, lang) <= AgeBand(band).facts.max_reading_grade + 1.0
