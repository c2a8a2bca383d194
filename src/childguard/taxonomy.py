"""Loads the taxonomy data file once; the rest of the package refers to categories by id only."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

from .errors import ConfigError


@dataclass(frozen=True, slots=True)
class Category:
    id: str
    description: str
    severity: int
    clauses: tuple[str, ...]


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

    @property
    def category_ids(self) -> tuple[str, ...]:
        return tuple(self.categories)

    def clause_text(self, clause: str) -> str:
        return self.clauses.get(clause, "")


def load_yaml_resource(name: str) -> dict[str, object]:
    text = resources.files("childguard.data").joinpath(name).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ConfigError(f"packaged data file {name} is not a mapping")
    return data


@lru_cache(maxsize=1)
def get_taxonomy() -> Taxonomy:
    raw = load_yaml_resource("taxonomy.yaml")
    try:
        cats = {
            cid: Category(cid, c["description"], int(c["severity"]), tuple(c["clauses"]))
            for cid, c in raw["categories"].items()  # type: ignore[attr-defined]
        }
        topics = {
            tid: Topic(tid, t["description"], tuple(t["related"]))
            for tid, t in raw["topics"].items()  # type: ignore[attr-defined]
        }
        clauses = {str(k): str(v) for k, v in raw["clauses"].items()}  # type: ignore[attr-defined]
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"taxonomy.yaml is malformed: {exc!r}") from exc
    return Taxonomy(cats, topics, clauses)


CATEGORY_IDS: tuple[str, ...] = (
    "sexual_content", "sexual_minors", "grooming", "sextortion", "self_harm", "eating_disorder",
    "violence", "weapons", "drugs_alcohol", "gambling", "hate", "cyberbullying", "extremism",
    "child_labour_trafficking", "dangerous_challenge", "personal_data", "emotional_dependency",
    "manipulative_marketing", "misinformation", "abuse_disclosure", "prompt_attack",
)
TOPIC_IDS: tuple[str, ...] = (
    "body_puberty", "mental_wellbeing", "conflict_history", "substances_info", "identity_beliefs",
    "online_safety", "death_grief",
)
