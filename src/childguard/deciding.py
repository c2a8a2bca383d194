"""Policy application: the detectors' findings become one action per label and an overall action.

Kept apart from the wording (explain.py) and from what the child is told (Guard), so the rules that
decide can be read, and tested, without the text that explains them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .agebands import AgeBand
from .detectors import Finding, Role
from .policy import Action, Policy
from .taxonomy import CATEGORY_IDS, TOPIC_IDS, Taxonomy

TOPIC_PREFIX = "topic:"


@dataclass(frozen=True, slots=True)
class Applied:
    """What the policy made of one message's findings, before any of it is explained or worded."""

    best: dict[str, Finding]  # the strongest finding per label: its detector and evidence are cited
    scores: dict[str, float]  # every category, rounded as the Decision reports it
    topic_scores: dict[str, float]
    topics: list[str]  # the topics at or over the topic threshold, strongest first
    actions: dict[str, Action]  # categories over their threshold, then topics: the order breaks ties
    reinterpreted: dict[str, str]  # category -> the topic that explains it, so it is answered, not refused
    ranked: list[str]
    overall: Action
    primary: str | None

    @property
    def flagged(self) -> list[str]:
        return [c for c in self.ranked if not c.startswith(TOPIC_PREFIX) and c not in self.reinterpreted]

    @property
    def primary_topic(self) -> str | None:
        return self.primary[len(TOPIC_PREFIX):] if self.primary and self.primary.startswith(TOPIC_PREFIX) else None

    @property
    def primary_category(self) -> str | None:
        return self.primary if self.primary and not self.primary.startswith(TOPIC_PREFIX) else None

    @property
    def subject(self) -> str | None:
        """The primary label without its prefix: the key for guidance and helplines alike."""
        return self.primary_topic or self.primary_category


def strongest(findings: Iterable[Finding]) -> dict[str, Finding]:
    """Several detectors may report a label; the first of the highest scores speaks for it."""
    best: dict[str, Finding] = {}
    for f in findings:
        if f.label not in best or f.score > best[f.label].score:
            best[f.label] = f
    return best


def apply_policy(policy: Policy, taxonomy: Taxonomy, findings: Iterable[Finding], band: AgeBand,
                 role: Role) -> Applied:
    best = strongest(findings)
    scores = {c: round(best[c].score, 4) if c in best else 0.0 for c in CATEGORY_IDS}
    topic_scores = {t: best[f"{TOPIC_PREFIX}{t}"].score for t in TOPIC_IDS if f"{TOPIC_PREFIX}{t}" in best}
    topics = sorted((t for t, s in topic_scores.items() if s >= policy.topic_threshold),
                    key=lambda t: -topic_scores[t])
    actions: dict[str, Action] = {}
    reinterpreted: dict[str, str] = {}
    for cat in CATEGORY_IDS:
        if scores[cat] < policy.threshold(cat, role):
            continue
        action = policy.action_for(cat, band, role)
        explained_by = explaining_topic(policy, taxonomy, cat, scores[cat], topics, topic_scores, role)
        if explained_by is not None and action.intervenes:
            action = policy.topic_action(explained_by, band)
            reinterpreted[cat] = explained_by
        actions[cat] = action
    for t in topics:
        actions[f"{TOPIC_PREFIX}{t}"] = policy.topic_action(t, band)
    ranked = rank(actions, scores, topic_scores, taxonomy)
    return Applied(best=best, scores=scores, topic_scores=topic_scores, topics=topics, actions=actions,
                   reinterpreted=reinterpreted, ranked=ranked, overall=actions[ranked[0]] if ranked else Action.ALLOW,
                   primary=ranked[0] if ranked else None)


def explaining_topic(policy: Policy, taxonomy: Taxonomy, cat: str, score: float, topics: list[str],
                     topic_scores: dict[str, float], role: Role) -> str | None:
    """A child asking about a sensitive topic is answered, not refused, when that topic scores higher
    than the harm category it is related to (4d)."""
    if not policy.topic_precedence or role != "child" or cat in policy.precedence_never_for:
        return None
    for t in topics:
        if cat in taxonomy.topics[t].related and topic_scores[t] > score:
            return t
    return None


def rank(actions: dict[str, Action], scores: dict[str, float], topic_scores: dict[str, float],
         taxonomy: Taxonomy) -> list[str]:
    """Strictest action first, then the more severe category (a topic counts as severity 0), then the
    higher score. Stable, so labels that tie keep the order of `actions`."""

    def strength(label: str) -> tuple[int, int, float]:
        if label.startswith(TOPIC_PREFIX):
            return actions[label].rank, 0, topic_scores[label[len(TOPIC_PREFIX):]]
        return actions[label].rank, taxonomy.categories[label].severity, scores[label]

    return sorted(actions, key=strength, reverse=True)
