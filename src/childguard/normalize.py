"""Undo the obfuscations children and abusers use to slip past filters (leetspeak, spaced letters,
zero-width characters, look-alike letters) before anything is classified. Phone numbers and other
all-digit tokens are left alone so the personal-data detector still sees them."""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from dataclasses import dataclass, field

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\ufeff\u00ad"))
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s",
                       "!": "i", "|": "l", "€": "e"})
# Cyrillic and Greek letters that look Latin; applied only inside words that also contain Latin letters.
_HOMOGLYPHS = str.maketrans({"а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "х": "x", "у": "y",
                             "і": "i", "ј": "j", "ѕ": "s", "ο": "o", "α": "a", "ν": "v", "κ": "k"})
_LEET_TOKEN = re.compile(r"[\w@$!|€]+")
_LEET_CHARS = frozenset("013457@$!|€")
_HAS_LEET = re.compile(r"[0-9@$!|€]")
_LATIN = re.compile(r"[a-z]")
_NON_LATIN_LOOKALIKE = re.compile(r"[аеорсхуіјѕοανκ]")
_SPACED = re.compile(r"(?<![^\W_])((?:[^\W_@$][ .\-_*+]){2,}[^\W_@$])(?![^\W_])")
_REPEAT = re.compile(r"(.)\1{2,}")
_WS = re.compile(r"\s+")
_WORD = re.compile(r"\S+")
_BASE64 = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{24,}={0,2}(?![A-Za-z0-9+/=])")


@dataclass(frozen=True, slots=True)
class NormalizedText:
    text: str
    obfuscations: tuple[str, ...] = field(default=())

    @property
    def obfuscated(self) -> bool:
        return bool(self.obfuscations)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # exactly Unicode category Cc


def strip_controls(text: str) -> str:
    """Control characters become spaces: they carry no meaning for a child and can hide words."""
    return _CONTROL.sub(" ", text)


def _deleet(match: re.Match[str]) -> str:
    whole = match.group(0)
    token = whole.rstrip("!|")  # "hello!" ends a sentence; it is not "helloi"
    tail = whole[len(token) :]
    if not any(ch in _LEET_CHARS for ch in token):
        return whole
    letters = sum(ch.isalpha() for ch in token)
    if letters == 0 or letters < len(token) / 3:
        return whole  # numbers, prices, phone numbers stay as they are
    return token.translate(_LEET) + tail


def _unspace(match: re.Match[str]) -> str:
    run = match.group(0)
    joined = re.sub(r"[ .\-_*+]", "", run)
    if sum(ch.isalpha() for ch in joined) * 2 < len(joined):
        return run  # "1 2 3 4" or "0 7 7 0 0" are numbers, not hidden words
    return joined


def _fix_homoglyphs(text: str) -> str:
    if not (_NON_LATIN_LOOKALIKE.search(text) and _LATIN.search(text)):
        return text  # the common case: one script only, nothing to fix

    def fix(m: re.Match[str]) -> str:
        word = m.group(0)
        if _LATIN.search(word) and _NON_LATIN_LOOKALIKE.search(word):
            return word.translate(_HOMOGLYPHS)
        return word

    return _WORD.sub(fix, text)


def normalize(text: str) -> NormalizedText:
    seen: list[str] = []
    out = unicodedata.normalize("NFKC", text)
    if out != text and any(ord(c) > 0x2000 for c in text):
        seen.append("unicode_lookalikes")
    stripped = out.translate(_ZERO_WIDTH)
    if stripped != out:
        seen.append("zero_width")
    out = strip_controls(stripped).casefold()
    fixed = _fix_homoglyphs(out)
    if fixed != out:
        seen.append("homoglyphs")
    out = fixed
    unspaced = _SPACED.sub(_unspace, out)
    if unspaced != out:
        seen.append("spaced_letters")
    out = unspaced
    deleeted = _LEET_TOKEN.sub(_deleet, out) if _HAS_LEET.search(out) else out
    if deleeted != out:
        seen.append("leetspeak")
    out = _REPEAT.sub(r"\1\1", deleeted)
    out = _WS.sub(" ", out).strip()
    return NormalizedText(out, tuple(seen))


def decode_payloads(text: str, limit: int = 5) -> list[str]:
    """Decode base64 runs that turn into readable text: an encoding used to smuggle requests past filters.
    Kept beside normalize() because it undoes an obfuscation too; it returns the hidden texts rather than
    rewriting the message, so the classifier scores them and the prompt-injection detector notes them."""
    out = []
    for m in _BASE64.finditer(text):
        blob = m.group(0)
        try:
            decoded = base64.b64decode(blob + "=" * (-len(blob) % 4), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
        printable = sum(ch.isprintable() for ch in decoded)
        if decoded.strip() and printable / len(decoded) > 0.95 and any(ch.isalpha() for ch in decoded):
            out.append(decoded)
        if len(out) >= limit:
            break
    return out
