"""Where what a caller sends becomes typed values: ages, roles and message texts.

The CLI, the HTTP service, the conversation guard and the audit all accept these from outside; parsing
them in one place means one set of rules and one wording for the errors. Every refusal is loud and says
what to send: guessing an age silently would apply the wrong protections."""

from __future__ import annotations

from .agebands import AgeBand, band_for_age, band_table
from .detectors import ROLES, Role
from .errors import InvalidAgeError, InvalidRoleError, InvalidTextError, TextTooLongError


def parse_age(value: object, default: AgeBand) -> AgeBand:
    """Accept an age in years (int or digit string), a band name or alias, or None (the default)."""
    if value is None:
        return default
    if isinstance(value, AgeBand):
        return value
    max_age = band_table().max_age
    if isinstance(value, bool):
        raise InvalidAgeError(f"age must be a number of years (0-{max_age}) or a band like '10-12', not a boolean")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, float):
        raise InvalidAgeError(f"age {value} is not a whole number of years; give years (0-{max_age}) or a band "
                              "like '10-12'")
    if isinstance(value, int):
        if 0 <= value <= max_age:
            return band_for_age(value)
        raise InvalidAgeError(f"age {value} is out of range; give years between 0 and {max_age}")
    if isinstance(value, str):
        text = value.strip().lower()
        if text.isdigit():
            return parse_age(int(text), default)
        aliases = band_table().aliases
        if text in aliases:
            return aliases[text]
        try:
            return AgeBand(text)
        except ValueError:
            pass
    bands = ", ".join(b.value for b in AgeBand)
    raise InvalidAgeError(f"unknown age {value!r}; give years (0-{max_age}) or one of: {bands}")


def parse_child_band(value: object) -> AgeBand:
    """For tools that only test children's protections (the audit): an adult age or band is refused."""
    band = parse_age(value, AgeBand.ADULT)
    if not band.is_child:
        raise InvalidAgeError(f"{value!r} is not a child's age; give 0-17 or a child band "
                              f"({', '.join(b.value for b in AgeBand if b.is_child)})")
    return band


def parse_role(value: object) -> Role:
    for role in ROLES:
        if value == role:
            return role
    raise InvalidRoleError(f"unknown role {value!r}; use one of {list(ROLES)}")


def validate_text(value: object, max_chars: int) -> str:
    """Accept str or UTF-8 bytes; refuse everything else with a message that says what to send."""
    if isinstance(value, bytes | bytearray | memoryview):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidTextError(f"text is not valid UTF-8 (bad byte at offset {exc.start}); send UTF-8") from exc
    if not isinstance(value, str):
        raise InvalidTextError(f"text must be a string, not {type(value).__name__}")
    if len(value) > max_chars:
        raise TextTooLongError(
            f"text has {len(value):,} characters, over the limit of {max_chars:,}; split it into messages "
            "or raise CHILDGUARD_MAX_TEXT_CHARS"
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidTextError("text contains invalid UTF-8 (lone surrogate characters); send valid UTF-8") from exc
    return value
