"""Turns findings into an action, per age band, role and category, from the policy data file.
Pure data lookup: no thresholds or actions live in code, so an auditor can read the whole policy
in policy.yaml and an operator can override it (3c)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from .agebands import AgeBand
from .errors import ConfigError
from .taxonomy import CATEGORY_IDS, TOPIC_IDS, load_yaml_resource


class Action(StrEnum):
    ALLOW = "allow"
    ADAPT = "adapt"
    REDIRECT = "redirect"
    BLOCK = "block"
    ESCALATE = "escalate"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def intervenes(self) -> bool:
        """Redirect or stronger: the request is not answered as asked, and the child gets a message and help."""
        return self.rank >= _RANK[Action.REDIRECT]

    @property
    def stops(self) -> bool:
        """Block or stronger: the text itself must not reach the child (an AI answer is replaced)."""
        return self.rank >= _RANK[Action.BLOCK]

    @property
    def needs_human(self) -> bool:
        """Escalate: a trained person reviews the case (4i); the one action that opens a review case."""
        return self is Action.ESCALATE


_RANK = {Action.ALLOW: 0, Action.ADAPT: 1, Action.REDIRECT: 2, Action.BLOCK: 3, Action.ESCALATE: 4}
_BANDS = [b.value for b in AgeBand]


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


@dataclass(frozen=True)
class Policy:
    version: str
    default_threshold: float
    category_thresholds: dict[str, float]
    role_thresholds: dict[str, dict[str, float]]
    topic_threshold: float
    actions: dict[str, dict[AgeBand, Action]]
    role_actions: dict[str, dict[str, Action]]
    topic_actions: dict[str, dict[AgeBand, Action]]
    topic_guidance: dict[str, dict[AgeBand, str]]
    category_guidance: dict[str, str]
    no_resources: frozenset[str] = field(default_factory=frozenset)
    topic_resources: frozenset[str] = field(default_factory=frozenset)
    topic_precedence: bool = True
    precedence_never_for: frozenset[str] = field(default_factory=frozenset)

    def threshold(self, category: str, role: str = "child") -> float:
        per_role = self.role_thresholds.get(role, {})
        if category in per_role:
            return per_role[category]
        return self.category_thresholds.get(category, self.default_threshold)

    def action_for(self, category: str, band: AgeBand, role: str) -> Action:
        if band.is_child:
            override = self.role_actions.get(role, {}).get(category)
            if override is not None:
                return override
        return self.actions[category][band]

    def topic_action(self, topic: str, band: AgeBand) -> Action:
        return self.topic_actions[topic][band]

    def guidance(self, topic: str, band: AgeBand) -> str | None:
        per_band = self.topic_guidance.get(topic, {})
        if band in per_band:
            return per_band[band]
        # fall back to the nearest younger band that has guidance
        for b in reversed(_BANDS[: _BANDS.index(band.value)]):
            if AgeBand(b) in per_band:
                return per_band[AgeBand(b)]
        return None

    @classmethod
    def from_dict(cls, raw: dict[str, Any], source: str = "policy") -> Policy:
        def band_map(where: str, value: Any) -> dict[AgeBand, Action]:
            if not isinstance(value, dict):
                raise ConfigError(f"{source}: {where} must map every age band to an action")
            missing = [b for b in _BANDS if b not in {str(k) for k in value}]
            if missing:
                raise ConfigError(f"{source}: {where} has no action for band(s) {missing}")
            try:
                return {AgeBand(str(k)): Action(str(v)) for k, v in value.items()}
            except ValueError as exc:
                raise ConfigError(f"{source}: {where}: {exc}; actions are {[a.value for a in Action]}") from exc

        try:
            cats = raw["categories"]
            missing = [c for c in CATEGORY_IDS if c not in cats]
            if missing:
                raise ConfigError(f"{source}: categories without a policy: {missing}")
            actions = {c: band_map(f"categories.{c}", cats[c]) for c in CATEGORY_IDS}
            role_actions = {
                str(role): {str(c): Action(str(a)) for c, a in (table or {}).items()}
                for role, table in (raw.get("roles") or {}).items()
            }
            for role, table in role_actions.items():
                bad = [c for c in table if c not in CATEGORY_IDS]
                if bad:
                    raise ConfigError(f"{source}: roles.{role} names unknown categories {bad}")
            topics = raw["topics"]
            topic_actions = {t: band_map(f"topics.{t}.actions", topics[t]["actions"]) for t in TOPIC_IDS}
            topic_guidance = {
                t: {AgeBand(str(b)): str(g) for b, g in (topics[t].get("guidance") or {}).items()} for t in TOPIC_IDS
            }
            thresholds = raw.get("thresholds") or {}
            cat_thresholds = {str(k): float(v) for k, v in (thresholds.get("categories") or {}).items()}
            role_thresholds = {str(role): {str(k): float(v) for k, v in (table or {}).items()}
                               for role, table in (thresholds.get("roles") or {}).items()}
            values = [float(thresholds.get("default", 0.5)), float(thresholds.get("topics", 0.5)),
                      *cat_thresholds.values(), *(v for t in role_thresholds.values() for v in t.values())]
            if any(not 0.0 < v <= 1.0 for v in values):
                raise ConfigError(f"{source}: thresholds must be in (0, 1]")
            return cls(
                version=str(raw.get("version", "unversioned")),
                default_threshold=float(thresholds.get("default", 0.5)),
                category_thresholds=cat_thresholds,
                role_thresholds=role_thresholds,
                topic_threshold=float(thresholds.get("topics", 0.5)),
                actions=actions,
                role_actions=role_actions,
                topic_actions=topic_actions,
                topic_guidance=topic_guidance,
                category_guidance={str(k): str(v) for k, v in (raw.get("category_guidance") or {}).items()},
                no_resources=frozenset(raw.get("no_resources") or ()),
                topic_resources=frozenset(raw.get("topic_resources") or ()),
                topic_precedence=bool((raw.get("topic_precedence") or {}).get("enabled", True)),
                precedence_never_for=frozenset((raw.get("topic_precedence") or {}).get("never_for") or ()),
            )
        except ConfigError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(f"{source} is malformed: {exc!r}") from exc


def load_policy(override: Path | None = None) -> Policy:
    raw = load_yaml_resource("policy.yaml")
    source = "policy.yaml"
    if override is not None:
        try:
            extra = yaml.safe_load(Path(override).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read policy override {override}: {exc}") from exc
        if not isinstance(extra, dict):
            raise ConfigError(f"policy override {override} must be a YAML mapping")
        raw = deep_merge(raw, extra)
        source = f"policy.yaml + {override}"
    return Policy.from_dict(raw, source)


@lru_cache(maxsize=4)
def cached_policy(override: Path | None = None) -> Policy:
    return load_policy(override)
