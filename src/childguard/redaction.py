"""Fast pattern redaction of a child's personal data (5b), without Presidio: for text that leaves the
service (the upstream model) and for every excerpt that is stored or reported. It owns the
personal-data and name expressions (data/patterns/personal_data.yaml, names.yaml); the personal-data
detector and the Presidio redactor (privacy.py) use the same ones, so each is defined once and the
storage layer does not depend on a detector."""

from __future__ import annotations

import re
from collections.abc import Callable

from . import name_redaction
from .pattern_data import Pattern, expression_list, pattern_by_id, pattern_table

PLACEHOLDER = "[private]"
# a fixed text, or a function of the redacted value (the gateway numbers values to restore them in the answer)
Placeholder = str | Callable[[str], str]

PERSONAL_DATA: tuple[Pattern, ...] = pattern_table("personal_data")
PASSWORD: Pattern = pattern_by_id(PERSONAL_DATA, "password")
ASKS_PERSONAL_DATA: Pattern = pattern_by_id(PERSONAL_DATA, "asks_personal_data")
NAME_PATTERNS: tuple[str, ...] = expression_list("names")
# values inside a context (group `v`): handles and usernames a child gives ("my snap is amy_2014",
# "add me on insta: amy_2014"), and parents' or the child's full names; the Presidio redactor uses them too
HANDLE_PATTERNS: tuple[str, ...] = (
    r"(?<![\w@])@(?P<v>[A-Za-z0-9_.]{3,30})\b",
    r"\bmy\s+(?:username|user\s*name|gamertag|snap(?:chat)?|insta(?:gram)?|discord|tiktok|roblox)"
    r"(?:\s+name)?\s+(?:is|:)\s*(?P<v>[\w.#-]{3,32})",
    r"\badd\s+me\s*(?:on\s+\w+\s*)?(?::|at)?\s*(?P<v>[A-Za-z][\w.#-]{2,31}\d[\w.#-]*)")
RELATIVE_NAME_PATTERNS: tuple[str, ...] = (
    r"\bmy\s+(?:full\s+)?name\s+is\s+(?P<v>[A-Z][a-z]+(?:\s+[A-Z][a-z]+){0,2})",
    r"\bmy\s+(?:mum|mom|mother|dad|father|sister|brother)(?:'s\s+name\s+is|\s+is\s+called)\s+"
    r"(?P<v>[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)",
    r"\bje\s+m'appelle\s+(?P<v>[A-Z][a-zé]+(?:\s+[A-Z][a-zé]+)?)",
    r"\bme\s+llamo\s+(?P<v>[A-Z][a-zá-ú]+(?:\s+[A-Z][a-zá-ú]+)?)",
    r"\bich\s+heiße\s+(?P<v>[A-Z][a-zäöü]+(?:\s+[A-Z][a-zäöü]+)?)",
    r"\bmeu\s+nome\s+é\s+(?P<v>[A-Z][a-zã-ú]+(?:\s+[A-Z][a-zã-ú]+)?)")
# a family member's or the child's full name; the child's own given name is name_redaction.py's (16 languages)
_RELATIVES = tuple(re.compile(p, re.UNICODE) for p in RELATIVE_NAME_PATTERNS)
_HANDLES = tuple(re.compile(p, re.IGNORECASE | re.UNICODE) for p in HANDLE_PATTERNS)
_REDACTED = tuple(p for p in PERSONAL_DATA if p.redact)


def _replacement(placeholder: Placeholder) -> Callable[[str], str]:
    return placeholder if callable(placeholder) else lambda _value: placeholder


def _values(patterns: tuple[re.Pattern[str], ...], text: str, placeholder: Placeholder) -> str:
    replace = _replacement(placeholder)
    for rx in patterns:
        text = rx.sub(lambda m: m.group(0)[: m.start("v") - m.start()] + replace(m.group("v"))
                      + m.group(0)[m.end("v") - m.start():], text)
    return text


def redact_names(text: str, placeholder: Placeholder = PLACEHOLDER) -> str:
    """Replace the names a child gives for themself or their family, keeping the words around them
    (name_redaction.py: lead-ins in 16 languages, on a view that undoes zero-width and look-alike letters)."""
    return name_redaction.redact_names(_values(_RELATIVES, text, placeholder), placeholder)


def redact_personal_data(text: str, placeholder: Placeholder = PLACEHOLDER) -> str:
    """Contact details, addresses, schools, passwords and the child's own name become `placeholder`."""
    replace = _replacement(placeholder)
    for p in _REDACTED:
        text = p.regex.sub(lambda m: replace(m.group(0)), text)
    return redact_names(_values(_HANDLES, text, placeholder), placeholder)
