"""Fast pattern redaction of a child's personal data (5b), without Presidio: for text that leaves the
service (the upstream model) and for every excerpt that is stored or reported. It owns the
personal-data and name expressions (data/patterns/personal_data.yaml, names.yaml); the personal-data
detector and the Presidio redactor (privacy.py) use the same ones, so each is defined once and the
storage layer does not depend on a detector."""

from __future__ import annotations

import re
from collections.abc import Callable

from .pattern_data import Pattern, expression_list, pattern_by_id, pattern_table

PLACEHOLDER = "[private]"
# a fixed text, or a function of the redacted value (the gateway numbers values to restore them in the answer)
Placeholder = str | Callable[[str], str]

PERSONAL_DATA: tuple[Pattern, ...] = pattern_table("personal_data")
PASSWORD: Pattern = pattern_by_id(PERSONAL_DATA, "password")
ASKS_PERSONAL_DATA: Pattern = pattern_by_id(PERSONAL_DATA, "asks_personal_data")
NAME_PATTERNS: tuple[str, ...] = expression_list("names")
_NAMES = tuple(re.compile(p, re.UNICODE) for p in NAME_PATTERNS)
_REDACTED = tuple(p for p in PERSONAL_DATA if p.redact)


def _replacement(placeholder: Placeholder) -> Callable[[str], str]:
    return placeholder if callable(placeholder) else lambda _value: placeholder


def redact_names(text: str, placeholder: Placeholder = PLACEHOLDER) -> str:
    """Replace the names a child gives for themself, keeping the words around them."""
    replace = _replacement(placeholder)
    for rx in _NAMES:
        text = rx.sub(lambda m: m.group(0)[: m.start("v") - m.start()] + replace(m.group("v")), text)
    return text


def redact_personal_data(text: str, placeholder: Placeholder = PLACEHOLDER) -> str:
    """Contact details, addresses, schools, passwords and the child's own name become `placeholder`."""
    replace = _replacement(placeholder)
    for p in _REDACTED:
        text = p.regex.sub(lambda m: replace(m.group(0)), text)
    return redact_names(text, placeholder)
