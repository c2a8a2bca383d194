"""Language identification from packages that ship their models (no download at run time):
CLD2 (pycld2) first, which is fast and strong on short text; py3langid when CLD2 is unsure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pycld2

from .errors import InvalidLanguageError
from .iso_codes import is_language

UNDETERMINED = "und"
_CODE = re.compile(r"^[a-zA-Z]{2,3}([-_][a-zA-Z0-9]{1,8})*$")
_ALIASES = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv", "zh-hant": "zh", "zh-hans": "zh", "sp": "es"}


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    lang: str
    confidence: float
    method: str


def normalize_code(code: str) -> str:
    """Map 'EN', 'en-GB', 'zh_Hant' to the base ISO 639 code; refuse things that are not codes."""
    if not isinstance(code, str) or not _CODE.match(code.strip()):
        raise InvalidLanguageError(
            f"language {code!r} is not an ISO 639 code; use a code like 'en', 'fr' or 'pt-BR', or omit it"
        )
    low = code.strip().lower().replace("_", "-")
    base = _ALIASES.get(low, _ALIASES.get(low.split("-")[0], low.split("-")[0]))
    if not is_language(base):
        raise InvalidLanguageError(
            f"{code.strip()!r} is not a language code (ISO 639); use a code like 'en', 'fr' or 'pt-BR', or omit it "
            "and the language is detected")
    return base


@lru_cache(maxsize=1)
def _langid() -> object:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def warm_up() -> None:
    _langid()


def detect(text: str) -> LanguageGuess:
    sample = text[:2000]
    if not sample.strip():
        return LanguageGuess(UNDETERMINED, 0.0, "empty")
    try:
        reliable, _, details = pycld2.detect(sample)
        code = details[0][1]
        if reliable and code not in ("un", "xxx"):
            return LanguageGuess(normalize_code(code), details[0][2] / 100.0, "cld2")
    except (pycld2.error, InvalidLanguageError):
        pass
    code, prob = _langid().classify(sample)  # type: ignore[attr-defined]
    if prob >= 0.5:
        try:
            return LanguageGuess(normalize_code(str(code)), float(prob), "langid")
        except InvalidLanguageError:  # a model label CLDR does not know: undetermined, never an error
            pass
    return LanguageGuess(UNDETERMINED, float(prob), "langid")
