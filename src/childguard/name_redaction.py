"""Finds the names a child gives for themself, for redaction (5b). Two tables: names.yaml, whose
lead-ins say a name follows ("my name is", "je m'appelle"), and name_hints.yaml, whose lead-ins often
do not ("i'm", "soy", "я"), where a word counts as a name only when it is not a common word of the
language (data/common_words/). Matching runs on a normalised view of the text (NFKC, zero-width
characters dropped, Latin look-alikes mapped inside Latin words), because one invisible or Cyrillic
letter inside "my name is" used to defeat it; spans are mapped back, so the rest of the text is
returned exactly as written."""

from __future__ import annotations

import gzip
import re
import unicodedata
from collections.abc import Callable
from functools import cache
from importlib import resources

import pycld2

from .lookalikes import HOMOGLYPH_PAIRS, ZERO_WIDTH_CHARS
from .pattern_data import expression_list, expressions_by_language, table_fragment

_ZW = frozenset(ZERO_WIDTH_CHARS)
_LATIN = re.compile(r"[A-Za-z]")
_WORD_RUN = re.compile(r"\S+")
_EDGE = "'’-.,!?;:\"()[]{}"

STRONG: tuple[re.Pattern[str], ...] = tuple(re.compile(p, re.UNICODE) for p in expression_list("names"))
HINTS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (lang, re.compile(p, re.UNICODE)) for lang, p in expressions_by_language("name_hints"))
_LANGS = frozenset(lang for lang, _ in HINTS)
_STOP = re.compile(f"^(?:{table_fragment('names', 'stop')})$")


@cache
def common_words(lang: str) -> frozenset[str]:
    """The language's frequent lower-case words; empty for a language without a list."""
    path = resources.files("childguard.data").joinpath("common_words", f"{lang}.txt.gz")
    try:
        return frozenset(gzip.decompress(path.read_bytes()).decode("utf-8").split())
    except (FileNotFoundError, OSError):
        return frozenset()


def normal_view(text: str) -> tuple[str, list[int]]:
    """`text` as patterns should see it, and for each character of the view the index in `text` it came
    from. Per character NFKC (full-width and mathematical letters become plain ones), zero-width dropped,
    look-alikes mapped only inside words that also hold a Latin letter."""
    chars: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        if ch in _ZW:
            continue
        folded = unicodedata.normalize("NFKC", ch) if ord(ch) > 127 else ch
        for out in folded:
            chars.append(out)
            index.append(i)
    view = "".join(chars)
    if any(c in HOMOGLYPH_PAIRS for c in view):
        for m in _WORD_RUN.finditer(view):
            word = m.group(0)
            if _LATIN.search(word) and any(c in HOMOGLYPH_PAIRS for c in word):
                chars[m.start():m.end()] = [HOMOGLYPH_PAIRS.get(c, c) for c in word]
        view = "".join(chars)
    return view, index


# languages whose ordinary nouns are capitalised: there a capital does not mark a name
_CAPITALISED_NOUNS = frozenset({"de"})


def _looks_like_name(word: str, lang: str, capital_only: bool) -> bool:
    bare = word.strip(_EDGE)
    if len(bare) < 2 or _STOP.match(bare) or bare.isdigit():
        return False
    if bare[0].isupper() and lang not in _CAPITALISED_NOUNS:
        return True  # a capital after "i'm", "soy", "я", "tôi là": a name, even one that is also a word
    if capital_only and not bare[0].isupper():
        return False
    key = bare.casefold()
    return key not in common_words(lang) and key not in common_words("en")


def _text_language(text: str) -> str | None:
    """The language CLD2 is sure of, among those with hints; None for short or mixed text (a child's
    "im sophie"), where every language's hints apply. Knowing it keeps one language's lead-in from
    firing on another's ordinary word ("im Theater", "Ben said")."""
    sample = text[:2000].encode("utf-8", "replace")  # lone surrogates must not crash a redaction
    try:
        reliable, _, details = pycld2.detect(sample)
    except pycld2.error:
        return None
    code = details[0][1].split("-")[0]
    return code if reliable and code in _LANGS else None


def _hint_span(m: re.Match[str], lang: str) -> tuple[int, int] | None:
    """The leading words of group `v` that look like a name, as a span of the view. A hint with a group
    `cap` ("this is", "c'est", "sono") takes only capitalised words: its lead-in also starts sentences
    about things ("this is awesome", "sono stanchi")."""
    start, end = m.start("v"), None
    capital_only = "cap" in m.re.groupindex
    for w in _WORD_RUN.finditer(m.group("v")):
        if not _looks_like_name(w.group(0), lang, capital_only):
            break
        end = m.start("v") + w.end()
    return (start, end) if end is not None else None


def name_spans(text: str) -> list[tuple[int, int]]:
    """Spans of `text` (not of the view) holding a self-given name, sorted and merged."""
    view, index = normal_view(text)
    found: list[tuple[int, int]] = []
    for rx in STRONG:
        found += [m.span("v") for m in rx.finditer(view) if m.end("v") > m.start("v")]
    known = _text_language(view)
    for lang, rx in HINTS:
        if known is None or lang == known:
            found += [span for m in rx.finditer(view) if (span := _hint_span(m, lang))]
    spans: list[tuple[int, int]] = []
    for s, e in sorted(found):
        a, b = index[s], index[e - 1] + 1
        if spans and a <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(b, spans[-1][1]))
        else:
            spans.append((a, b))
    return spans


def redact_names(text: str, placeholder: str | Callable[[str], str]) -> str:
    """Replace the names a child gives for themself, keeping the words around them as written; a callable
    placeholder gets the name (the gateway numbers names to put them back in the child's answer)."""
    out, last = [], 0
    for s, e in name_spans(text):
        out += [text[last:s], placeholder(text[s:e]) if callable(placeholder) else placeholder]
        last = e
    return "".join(out) + text[last:]
