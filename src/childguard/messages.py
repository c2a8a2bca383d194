"""Child-facing messages in the child's language, chosen by action, role and category."""

from __future__ import annotations

from functools import lru_cache

from .policy import Action
from .taxonomy import load_yaml_resource

FALLBACK_LANG = "en"
SUPPORT_GROUP = {
    "self_harm": "support.self_harm",
    "abuse_disclosure": "support.abuse",
    "grooming": "support.exploitation",
    "sextortion": "support.exploitation",
    "sexual_minors": "support.exploitation",
    "child_labour_trafficking": "support.exploitation",
    "eating_disorder": "support.eating",
}
# Support messages speak to a child who disclosed or is at risk; they only fit the child's own messages.
_SUPPORT_ROLES = {"child", "contact"}


@lru_cache(maxsize=1)
def _catalogue() -> dict[str, dict[str, str]]:
    raw = load_yaml_resource("messages.yaml")
    return {str(lang): {str(k): str(v) for k, v in table.items()} for lang, table in raw.items()
            if isinstance(table, dict)}


def message_languages() -> list[str]:
    return sorted(_catalogue())


def choose_nudge(key: str, lang: str) -> str | None:
    catalogue = _catalogue()
    table = catalogue.get(lang, catalogue[FALLBACK_LANG])
    return table.get(key) or catalogue[FALLBACK_LANG].get(key)


def choose_message(action: Action, category: str | None, role: str, lang: str) -> tuple[str | None, str]:
    """Return (message, language it is written in)."""
    if action is Action.ALLOW:
        return None, lang
    catalogue = _catalogue()
    message_lang = lang if lang in catalogue else FALLBACK_LANG
    keys = []
    if role == "ai_output" and action.intervenes:
        keys.append("block.ai_output")  # the child did nothing: an AI answer is replaced, never "thank you for telling"
    if category:
        keys.append(f"{action.value}.{category}")
        if role in _SUPPORT_ROLES and category in SUPPORT_GROUP and action is not Action.ADAPT:
            keys.append(SUPPORT_GROUP[category])
    keys.append(action.value)
    for table in (catalogue[message_lang], catalogue[FALLBACK_LANG]):
        for key in keys:
            if key in table:
                return table[key], message_lang if table is catalogue[message_lang] else FALLBACK_LANG
    return None, message_lang
