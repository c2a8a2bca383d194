"""Fast pattern redaction of a child's personal data (5b), without Presidio: for text that leaves the
service (the upstream model) and for every excerpt that is stored or reported. It owns the
personal-data and name expressions (data/patterns/personal_data.yaml, names.yaml); the personal-data
detector and the Presidio redactor (privacy.py) use the same ones, so each is defined once and the
storage layer does not depend on a detector."""

from __future__ import annotations

from . import name_redaction
from .pattern_data import Pattern, expression_list, pattern_by_id, pattern_table

PLACEHOLDER = "[private]"

PERSONAL_DATA: tuple[Pattern, ...] = pattern_table("personal_data")
PASSWORD: Pattern = pattern_by_id(PERSONAL_DATA, "password")
ASKS_PERSONAL_DATA: Pattern = pattern_by_id(PERSONAL_DATA, "asks_personal_data")
NAME_PATTERNS: tuple[str, ...] = expression_list("names")
_REDACTED = tuple(p for p in PERSONAL_DATA if p.redact)


def redact_names(text: str, placeholder: str = PLACEHOLDER) -> str:
    """Replace the names a child gives for themself, keeping the words around them (name_redaction.py:
    lead-ins in 16 languages, on a view that undoes zero-width and look-alike letters)."""
    return name_redaction.redact_names(text, placeholder)


def redact_personal_data(text: str, placeholder: str = PLACEHOLDER) -> str:
    """Contact details, addresses, schools, passwords and the child's own name become `placeholder`."""
    for p in _REDACTED:
        text = p.regex.sub(placeholder, text)
    return redact_names(text, placeholder)
