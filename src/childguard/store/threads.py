"""One review case per conversation (4i). A grooming conversation escalates on turn after turn; a case
per escalating message buried one conversation under five cases, each showing only its last line. Now
the first escalation opens the case and later ones update it: the severity can rise, categories and
reasons are joined, and each escalating turn adds one timeline entry (its time, the findings and the
turns and stages that moved them, the redacted excerpt, and a sentence saying what changed), sealed
like the excerpt. Once a moderator closes the case, the next escalation opens a new one."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .records import CaseRecord


@dataclass(frozen=True, slots=True)
class CaseState:
    """The parts of an open case that an update may change."""

    severity: int
    categories: list[str]
    reasons: list[str]
    timeline: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Update:
    severity: int
    categories: list[str]
    reasons: list[str]
    timeline: list[dict[str, Any]]
    change: str


def entry_of(record: CaseRecord, change: str) -> dict[str, Any]:
    turn = record.turn
    base: dict[str, Any] = {"key": record.key, "severity": record.severity, "categories": record.categories,
                            "excerpt": record.excerpt, "change": change}
    if turn is None:
        return {**base, "turn": None, "time": record.created_at.isoformat(), "role": None, "action": None,
                "findings": []}
    return {**base, "turn": turn.turn, "time": turn.time.isoformat(), "role": turn.role, "action": turn.action,
            "findings": [f.model_dump() for f in turn.findings]}


def opening_entry(record: CaseRecord) -> dict[str, Any]:
    return entry_of(record, "case opened")


def _evidence(timeline: list[dict[str, Any]]) -> set[str]:
    return {line for e in timeline for f in e.get("findings", []) for line in f.get("evidence", [])}


def describe_change(old: CaseState, record: CaseRecord) -> str:
    """What the moderator should notice: a higher severity, new categories, new evidence lines."""
    parts: list[str] = []
    if record.severity > old.severity:
        parts.append(f"severity {old.severity} → {record.severity}")
    new_categories = [c for c in record.categories if c not in old.categories]
    if new_categories:
        parts.append("new: " + ", ".join(c.replace("_", " ") for c in new_categories))
    seen = _evidence(old.timeline)
    fresh = [line for f in (record.turn.findings if record.turn else []) for line in f.evidence if line not in seen]
    if fresh:
        parts.append("new evidence: " + "; ".join(dict.fromkeys(fresh)))
    return "; ".join(parts) or "escalated again, nothing new"


def merge(old: CaseState, record: CaseRecord) -> Update | None:
    """The case after `record`'s turn joins it, or None when that write was already applied (a replay
    from the spool, or a store call that timed out but committed)."""
    if any(e.get("key") == record.key for e in old.timeline):
        return None
    change = describe_change(old, record)
    return Update(severity=max(old.severity, record.severity),
                  categories=list(dict.fromkeys([*old.categories, *record.categories])),
                  reasons=list(dict.fromkeys([*old.reasons, *record.reasons])),
                  timeline=[*old.timeline, entry_of(record, change)], change=change)


def dump(timeline: list[dict[str, Any]]) -> str:
    return json.dumps(timeline, ensure_ascii=False, separators=(",", ":"))


def load(text: str | None) -> list[dict[str, Any]]:
    if not text:
        return []
    data = json.loads(text)
    return data if isinstance(data, list) else []
