"""Age bands of the UK Age Appropriate Design Code (standard 3), the unit every policy is written in.

The enum gives the bands typed names; every fact about a band (its ages, how an answer for it reads, the
reading grade the audit expects) comes from data/agebands.yaml, so a table keyed by band exists once.
The loader refuses a data file that disagrees with the enum, rather than letting two lists drift."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from .errors import ConfigError
from .taxonomy import load_yaml_resource


class AgeBand(StrEnum):
    PRESCHOOL = "0-5"
    EARLY_PRIMARY = "6-9"
    TRANSITION = "10-12"
    EARLY_TEEN = "13-15"
    LATE_TEEN = "16-17"
    ADULT = "adult"

    @property
    def is_child(self) -> bool:
        return self is not AgeBand.ADULT

    @property
    def facts(self) -> BandFacts:
        return band_table().facts[self]

    @property
    def order(self) -> int:
        """0 for the youngest band; sorting by it puts the most protected first."""
        return self.facts.order

    @property
    def min_age(self) -> int:
        return self.facts.min_age


@dataclass(frozen=True, slots=True)
class BandFacts:
    band: AgeBand
    order: int
    min_age: int
    max_age: int
    answer_style: str
    max_reading_grade: float


@dataclass(frozen=True, slots=True)
class BandTable:
    facts: dict[AgeBand, BandFacts]
    aliases: dict[str, AgeBand]

    @property
    def max_age(self) -> int:
        return max(f.max_age for f in self.facts.values())


@lru_cache(maxsize=1)
def band_table() -> BandTable:
    raw = load_yaml_resource("agebands.yaml")
    try:
        rows = list(raw["bands"])  # type: ignore[call-overload]
        facts = {}
        for i, row in enumerate(rows):
            band = AgeBand(str(row["id"]))
            facts[band] = BandFacts(band, i, int(row["min_age"]), int(row["max_age"]), str(row["answer_style"]),
                                    float(row["max_reading_grade"]))
        aliases = {str(k).lower(): AgeBand(str(v)) for k, v in (raw.get("aliases") or {}).items()}  # type: ignore[attr-defined]
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"agebands.yaml is malformed: {exc!r}; every band needs id, min_age, max_age, "
                          "answer_style and max_reading_grade") from exc
    if list(facts) != list(AgeBand):
        raise ConfigError(f"agebands.yaml lists bands {[b.value for b in facts]}; it must list exactly "
                          f"{[b.value for b in AgeBand]}, youngest first")
    expected = 0
    for f in facts.values():
        if f.min_age != expected or f.max_age < f.min_age:
            raise ConfigError(f"agebands.yaml: band {f.band.value} starts at {f.min_age}; bands must tile the "
                              f"ages without gaps (expected it to start at {expected})")
        expected = f.max_age + 1
    return BandTable(facts, aliases)


CHILD_BANDS: tuple[AgeBand, ...] = tuple(b for b in AgeBand if b.is_child)


def band_for_age(age: int) -> AgeBand:
    for band, f in band_table().facts.items():
        if age <= f.max_age:
            return band
    return AgeBand.ADULT


def younger(a: AgeBand, b: AgeBand) -> AgeBand:
    return a if a.order <= b.order else b
