"""Scores labelled multi-turn conversations: how many harmful ones are caught, how early (latency in
turns against the labelled harm turn) and how often ordinary conversations raise a false alarm."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from ..errors import InvalidInputError
from ..policy import Action
from .monitor import ConversationGuard

HARMFUL = {"grooming", "sextortion", "bullying", "dependency"}
BENIGN = {"friendly_peers", "kind_adult", "banter"}
# what counts as "caught" per kind: dependency is met with a nudge/redirect, not a human review
CAUGHT_AT = {"grooming": Action.ESCALATE, "sextortion": Action.ESCALATE, "bullying": Action.ESCALATE,
             "dependency": Action.REDIRECT}


def load_conversations(paths: list[Path]) -> list[dict[str, Any]]:
    convs: list[dict[str, Any]] = []
    for path in paths:
        files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
        for f in files:
            data = yaml.safe_load(f.read_text(encoding="utf-8"))
            if not isinstance(data, list):
                raise InvalidInputError(f"{f} must be a YAML list of conversations")
            for conv in data:
                if conv.get("kind") not in HARMFUL | BENIGN:
                    raise InvalidInputError(
                        f"{f}: conversation {conv.get('id')!r} has unknown kind {conv.get('kind')!r}")
                conv["source"] = f.name
                convs.append(conv)
    return convs


def run_conversation(cg: ConversationGuard, conv: dict[str, Any]) -> list[Action]:
    cid = f"eval-{conv['id']}-{uuid.uuid4().hex[:8]}"
    start = datetime.fromisoformat(conv["start"]) if conv.get("start") else None
    actions = []
    for i, (role, sender, text) in enumerate(conv["messages"]):
        when = start + timedelta(minutes=conv.get("minutes", 1) * i) if start else None
        d = cg.observe({"conversation": cid, "sender": sender, "role": role, "text": text,
                        "age": conv.get("age"), "time": when})
        actions.append(d.action)
    cg.forget(cid)
    return actions


def evaluate_conversations(cg: ConversationGuard, convs: list[dict[str, Any]]) -> dict[str, Any]:
    per: list[dict[str, Any]] = []
    for conv in convs:
        actions = run_conversation(cg, conv)
        kind = conv["kind"]
        if kind in HARMFUL:
            bar = CAUGHT_AT[kind]
            hit = next((i + 1 for i, a in enumerate(actions) if a.rank >= bar.rank), None)
            latency = None if hit is None or conv.get("harm_turn") is None else hit - int(conv["harm_turn"])
            per.append({"id": conv["id"], "kind": kind, "detected": hit is not None, "detection_turn": hit,
                        "harm_turn": conv.get("harm_turn"), "latency_turns": latency})
        else:
            escalations = sum(a is Action.ESCALATE for a in actions)
            interventions = sum(a.intervenes for a in actions)
            per.append({"id": conv["id"], "kind": kind, "false_alarm": escalations > 0,
                        "escalated_turns": escalations, "intervened_turns": interventions, "turns": len(actions)})
    harmful = [p for p in per if p["kind"] in HARMFUL]
    benign = [p for p in per if p["kind"] in BENIGN]
    latencies = sorted(p["latency_turns"] for p in harmful if p["latency_turns"] is not None)
    by_kind: dict[str, dict[str, Any]] = {}
    for kind in sorted({p["kind"] for p in per}):
        rows = [p for p in per if p["kind"] == kind]
        if kind in HARMFUL:
            by_kind[kind] = {"conversations": len(rows), "detected": sum(p["detected"] for p in rows)}
        else:
            by_kind[kind] = {"conversations": len(rows), "false_alarms": sum(p["false_alarm"] for p in rows)}
    return {
        "harmful": len(harmful),
        "detection_rate": round(sum(p["detected"] for p in harmful) / len(harmful), 4) if harmful else None,
        "median_latency_turns": latencies[len(latencies) // 2] if latencies else None,
        "caught_before_or_at_harm_turn": (round(sum(x <= 0 for x in latencies) / len(latencies), 4)
                                          if latencies else None),
        "benign": len(benign),
        "false_alarm_rate": round(sum(p["false_alarm"] for p in benign) / len(benign), 4) if benign else None,
        "benign_turn_intervention_rate": (round(sum(p["intervened_turns"] for p in benign)
                                                / max(1, sum(p["turns"] for p in benign)), 4) if benign else None),
        "by_kind": by_kind,
        "conversations": per,
    }


def format_conversation_report(r: dict[str, Any]) -> str:
    lines = [f"harmful conversations: {r['harmful']}, detected {r['detection_rate']}, median latency "
             f"{r['median_latency_turns']} turns (negative = before the labelled harm turn), caught at or before "
             f"the harm turn: {r['caught_before_or_at_harm_turn']}",
             f"benign conversations: {r['benign']}, false-alarm (escalation) rate {r['false_alarm_rate']}, "
             f"turns with an intervention {r['benign_turn_intervention_rate']}", ""]
    for p in r["conversations"]:
        if "detected" in p:
            lines.append(f"  {p['id']:22s} {p['kind']:14s} detected at turn {p['detection_turn']} "
                         f"(harm turn {p['harm_turn']}, latency {p['latency_turns']})")
        else:
            lines.append(f"  {p['id']:22s} {p['kind']:14s} escalated turns {p['escalated_turns']}, "
                         f"interventions {p['intervened_turns']}/{p['turns']}")
    return "\n".join(lines)
