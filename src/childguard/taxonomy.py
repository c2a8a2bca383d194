"""Loads the taxonomy data file once; the rest of the package refers to categories by id only.

taxonomy.yaml is the only list of category and topic ids: `CATEGORY_IDS` and `TOPIC_IDS` are read from
it, so adding a category never means editing code here."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from .errors import ConfigError


@dataclass(frozen=True, slots=True)
class Category:
    id: str
    description: str
    severity: int
    clauses: tuple[str, ...]
    openai: tuple[str, ...] = ()
    llama_guard: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Topic:
    id: str
    description: str
    related: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Taxonomy:
    categories: dict[str, Category]
    topics: dict[str, Topic]
    clauses: dict[str, str]
    openai_moderation: tuple[str, ...] = ()

    @property
    def category_ids(self) -> tuple[str, ...]:
        return tuple(self.categories)

    @property
    def topic_ids(self) -> tuple[str, ...]:
        return tuple(self.topics)

    def clause_text(self, clause: str) -> str:
        return self.clauses.get(clause, "")

    def openai_categories(self) -> dict[str, tuple[str, ...]]:
        """OpenAI moderation category -> the categories whose scores feed it, in the response's key order."""
        return {name: tuple(c.id for c in self.categories.values() if name in c.openai)
                for name in self.openai_moderation}

    def llama_guard_map(self) -> dict[str, str]:
        """Llama Guard hazard code -> category; codes with no child-protection meaning are absent."""
        return {code: c.id for c in self.categories.values() for code in c.llama_guard}


def load_yaml_resource(name: str) -> dict[str, object]:
    text = resources.files("childguard.data").joinpath(name).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ConfigError(f"packaged data file {name} is not a mapping")
    return data


def _category(cid: str, c: dict[str, Any]) -> Category:
    return Category(cid, c["description"], int(c["severity"]), tuple(c["clauses"]),
                    tuple(str(n) for n in c.get("openai") or ()), tuple(str(n) for n in c.get("llama_guard") or ()))


def _check_external_maps(tax: Taxonomy) -> None:
    """A typo in a mapped name would silently drop a score from the moderation answer; fail at load instead."""
    known = set(tax.openai_moderation)
    for c in tax.categories.values():
        unknown = [n for n in c.openai if n not in known]
        if unknown:
            raise ConfigError(f"taxonomy.yaml: categories.{c.id}.openai names {unknown}, which are not in "
                              f"openai_moderation {sorted(known)}")
    empty = [name for name, cats in tax.openai_categories().items() if not cats]
    if empty:
        raise ConfigError(f"taxonomy.yaml: openai_moderation categories {empty} are fed by no category; "
                          "add them to some category's `openai` list")
    seen: dict[str, str] = {}
    for c in tax.categories.values():
        for code in c.llama_guard:
            if code in seen:
                raise ConfigError(f"taxonomy.yaml: Llama Guard code {code} is mapped to both {seen[code]} and {c.id}")
            seen[code] = c.id


@lru_cache(maxsize=1)
def get_taxonomy() -> Taxonomy:
    raw = load_yaml_resource("taxonomy.yaml")
    try:
        cats = {str(cid): _category(str(cid), c) for cid, c in raw["categories"].items()}  # type: ignore[attr-defined]
        topics = {
            tid: Topic(tid, t["description"], tuple(t["related"]))
            for tid, t in raw["topics"].items()  # type: ignore[attr-defined]
        }
        clauses = {str(k): str(v) for k, v in raw["clauses"].items()}  # type: ignore[attr-defined]
        openai = tuple(str(n) for n in raw.get("openai_moderation") or ())  # type: ignore[attr-defined]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(f"taxonomy.yaml is malformed: {exc!r}") from exc
    tax = Taxonomy(cats, topics, clauses, openai)
    _check_external_maps(tax)
    return tax


CATEGORY_IDS: tuple[str, ...] = get_taxonomy().category_ids
TOPIC_IDS: tuple[str, ...] = get_taxonomy().topic_ids
