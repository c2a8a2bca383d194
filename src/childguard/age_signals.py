"""Age signals: what a user says about their own age or school year (4c, 5a).

Operators know a declared age at best, and children often sign up as adults, so a child protection
mode that trusts the account alone is off when it is most needed. This module reads self-declared age
("i'm 12", "j'ai 11 ans"), school year ("year 7", "ich bin in der 6. Klasse") and school stage ("I'm in
primary school"), and weaker hints (homework for a grade, parents' screen-time rules), in the ten
supported languages, with the AADC band each implies. Patterns are data
(`data/age_signals.yaml`) and first-person only, so an adult who writes "my son is 12" is not read as
a child.

A signal is reported as kind, band and confidence, never the words that gave it away (5b), and the
policy built on it only ever makes protection stricter (`stricter_band`)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field

from .agebands import AgeBand, band_for_age, younger
from .errors import ConfigError
from .taxonomy import load_yaml_resource

_FLAGS = re.UNICODE  # texts are casefolded first; IGNORECASE on Unicode would cost 2-3x per scan


class AgeSignal(BaseModel):
    """One hint about the user's age. Deliberately without the matched text: the band is what is
    needed to protect, and the evidence is a child's personal data (5b)."""

    model_config = ConfigDict(frozen=True)

    kind: str = Field(description="declared_age | school_year | school_stage | homework_grade | parental_rules")
    band: AgeBand = Field(description="AADC band the signal implies")
    confidence: float = Field(ge=0, le=1)
    lang: str = Field(description="language whose patterns matched")


def stricter_band(current: AgeBand, signals: list[AgeSignal], min_confidence: float) -> AgeBand:
    """The youngest of the current band and the strong signals' bands: a signal may move a profile
    towards more protection, never away from it."""
    band = current
    for s in signals:
        if s.confidence >= min_confidence:
            band = younger(band, s.band)
    return band


def youngest_strong(signals: list[AgeSignal], min_confidence: float) -> AgeBand | None:
    strong = [s.band for s in signals if s.confidence >= min_confidence]
    return min(strong, key=lambda b: b.order) if strong else None


@dataclass(frozen=True, slots=True)
class _Pattern:
    kind: str
    lang: str
    group: str  # name of this pattern's branch in its language's combined expression
    confidence: float
    offset: int | None = None
    table: Mapping[int, int] | None = None
    age: int | None = None
    band: AgeBand | None = None

    def implied(self, match: re.Match[str], numbers: Mapping[str, int]) -> AgeBand | None:
        if self.band is not None:
            return self.band
        if self.age is not None:
            return band_for_age(self.age)
        prefix = self.group + "n"
        token = next((v for k, v in match.groupdict().items() if k.startswith(prefix) and v is not None), None)
        n = _number(token, numbers) if token is not None else None
        if n is None:
            return None
        if self.table is not None:
            if n not in self.table:
                return None
            return band_for_age(self.table[n])
        age = n + (self.offset or 0)
        return band_for_age(age) if 0 <= age <= 130 else None


def _number(token: str, numbers: Mapping[str, int]) -> int | None:
    token = token.strip().casefold()
    if token.isdecimal():  # any script's digits: "12", "١٢", "१२"
        return int(token)
    return numbers.get(token)


class AgeSignalDetector:
    """Thread-safe after construction; all languages' patterns run on every text, because short
    messages like "im 12" are exactly the ones language detection gets wrong. Each language's
    patterns are joined into one expression (one scan per language instead of one per pattern:
    about 10x cheaper on the decision path)."""

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        raw: Mapping[str, Any] = data if data is not None else load_yaml_resource("age_signals.yaml")
        try:
            kinds = {str(k): float(v) for k, v in raw["kinds"].items()}
            self.patterns: list[_Pattern] = []
            self.numbers: dict[str, dict[str, int]] = {}
            # language, gates (its script, the words its patterns start from: no match, no scan), expression
            self._combined: list[tuple[str, tuple[re.Pattern[str], ...], re.Pattern[str], dict[str, _Pattern]]] = []
            for lang, spec in raw["languages"].items():
                numbers = {str(k).casefold(): int(v) for k, v in (spec.get("numbers") or {}).items()}
                self.numbers[lang] = numbers
                words = sorted(numbers, key=len, reverse=True)
                alternation = "|".join([r"\d{1,3}", *(re.escape(w) for w in words)])
                branches: dict[str, _Pattern] = {}
                sources = []
                for j, p in enumerate(spec["patterns"]):
                    group = f"p{j}"
                    parts = str(p["re"]).split("<N>")  # one named group per <N>: p3n0, p3n1, ...
                    source = parts[0] + "".join(f"(?P<{group}n{i}>{alternation}){rest}"
                                                for i, rest in enumerate(parts[1:]))
                    re.compile(source, _FLAGS)  # a broken pattern is reported on its own
                    sources.append(f"(?P<{group}>{source})")
                    pattern = _Pattern(
                        kind=str(p["kind"]), lang=str(lang), group=group, confidence=kinds[str(p["kind"])],
                        offset=p.get("offset"),
                        table={int(k): int(v) for k, v in p["table"].items()} if "table" in p else None,
                        age=p.get("age"), band=AgeBand(str(p["band"])) if "band" in p else None)
                    branches[group] = pattern
                    self.patterns.append(pattern)
                gates = tuple(re.compile(str(spec[k]), _FLAGS) for k in ("script", "trigger") if spec.get(k))
                combined = "|".join(sources)
                if all(str(p["re"]).startswith(r"\b") for p in spec["patterns"]):
                    # try the branches only where a word starts: 3-4x faster, same matches
                    combined = rf"\b(?=\w)(?:{combined})"
                self._combined.append((str(lang), gates, re.compile(combined, _FLAGS), branches))
        except (KeyError, TypeError, ValueError, re.error) as exc:
            raise ConfigError(f"age_signals.yaml is invalid: {exc}") from exc

    @property
    def languages(self) -> list[str]:
        return list(self.numbers)

    def detect(self, text: str) -> list[AgeSignal]:
        """Child signals only, strongest and youngest first; one per kind and band. An adult age
        ("i'm 40") is not a signal: it could only loosen protection, which signals never do."""
        clean = unicodedata.normalize("NFKC", text).casefold()
        found: dict[tuple[str, AgeBand], AgeSignal] = {}
        for lang, gates, regex, branches in self._combined:
            if not all(g.search(clean) for g in gates):
                continue
            for m in regex.finditer(clean):
                p = branches[str(m.lastgroup)]
                band = p.implied(m, self.numbers[lang])
                if band is None or band is AgeBand.ADULT:
                    continue
                found.setdefault((p.kind, band), AgeSignal(kind=p.kind, band=band, confidence=p.confidence,
                                                           lang=p.lang))
        return sorted(found.values(), key=lambda s: (-s.confidence, s.band.order))


@lru_cache(maxsize=1)
def default_detector() -> AgeSignalDetector:
    return AgeSignalDetector(cast(Mapping[str, Any], load_yaml_resource("age_signals.yaml")))
