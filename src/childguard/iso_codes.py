"""Which language and country codes are real, from CLDR (through babel, a core dependency, so no list
is kept here). "xx" is shaped like a language code and "ZZ" like a country code, but neither names one:
accepted silently, they chose no helplines and were published on the transparency page as languages."""

from __future__ import annotations

from functools import lru_cache

# CLDR's placeholders: undetermined, no linguistic content, multiple, uncoded languages
NOT_LANGUAGES = frozenset({"und", "zxx", "mul", "mis"})
# CLDR's region codes that are not countries: unknown, groupings, pseudo-regions
NOT_COUNTRIES = frozenset({"ZZ", "EU", "EZ", "UN", "QO", "XA", "XB"})


@lru_cache(maxsize=1)
def languages() -> frozenset[str]:
    from babel import Locale

    codes = {str(k).split("_")[0].lower() for k in Locale("en").languages}
    return frozenset(codes - NOT_LANGUAGES)


@lru_cache(maxsize=1)
def countries() -> frozenset[str]:
    from babel import Locale

    names = (str(k) for k in Locale("en").territories)
    return frozenset(k for k in names if len(k) == 2 and k.isalpha()) - NOT_COUNTRIES


def is_language(code: str) -> bool:
    """`code`: a lower-case ISO 639 base code ('en', 'fil')."""
    return code in languages()


def is_country(code: str) -> bool:
    """`code`: an upper-case ISO 3166 alpha-2 code ('GB')."""
    return code in countries()


OTHER = "other"
UNDETERMINED = "und"


def real_languages(counts: dict[str, int]) -> dict[str, int]:
    """Counts per language with every code that names no language (stored before such codes were
    refused) folded into `other`, so a published report lists languages only; `und` (the language
    could not be told) stays, as the page names it."""
    out: dict[str, int] = {}
    for code, n in counts.items():
        key = code if code == UNDETERMINED or is_language(code) else OTHER
        out[key] = out.get(key, 0) + n
    return out
