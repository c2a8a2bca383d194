"""Age bands of the UK Age Appropriate Design Code (standard 3), the unit every policy is written in."""

from __future__ import annotations

from enum import StrEnum

from .errors import InvalidAgeError


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


_BOUNDS: tuple[tuple[int, AgeBand], ...] = (
    (5, AgeBand.PRESCHOOL),
    (9, AgeBand.EARLY_PRIMARY),
    (12, AgeBand.TRANSITION),
    (15, AgeBand.EARLY_TEEN),
    (17, AgeBand.LATE_TEEN),
)
MAX_AGE = 130
_ALIASES = {"18+": AgeBand.ADULT, "adults": AgeBand.ADULT, "16-18": AgeBand.LATE_TEEN}


def band_for_age(age: int) -> AgeBand:
    for upper, band in _BOUNDS:
        if age <= upper:
            return band
    return AgeBand.ADULT


def parse_age(value: object, default: AgeBand) -> AgeBand:
    """Accept an age in years (int or digit string), a band name, or None (the configured default).

    Anything else is refused loudly: guessing an age silently would apply the wrong protections."""
    if value is None:
        return default
    if isinstance(value, AgeBand):
        return value
    if isinstance(value, bool):
        raise InvalidAgeError("age must be a number of years (0-130) or a band like '10-12', not a boolean")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        if 0 <= value <= MAX_AGE:
            return band_for_age(value)
        raise InvalidAgeError(f"age {value} is out of range; give years between 0 and {MAX_AGE}")
    if isinstance(value, str):
        text = value.strip().lower()
        if text.isdigit():
            return parse_age(int(text), default)
        if text in _ALIASES:
            return _ALIASES[text]
        try:
            return AgeBand(text)
        except ValueError:
            pass
    bands = ", ".join(b.value for b in AgeBand)
    raise InvalidAgeError(f"unknown age {value!r}; give years (0-{MAX_AGE}) or one of: {bands}")
