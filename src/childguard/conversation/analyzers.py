"""Conversation analysers: one protocol, one registry, like the message detectors. Each reads the
message's inspection and the conversation state, updates the state and returns findings."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Protocol

from ..guard import Inspection
from ..policy import Action
from ..registry import Registry
from ..settings import Settings
from .schema import ConversationFinding, ConversationMessage, StageMove
from .stages import HIGH_RISK, STAGES, risk, stages_in
from .state import ConversationState, HostileEvent


class ConversationAnalyzer(Protocol):
    name: str

    def update(self, state: ConversationState, msg: ConversationMessage, inspection: Inspection,
               at: float) -> list[ConversationFinding]: ...


ANALYZERS: Registry[ConversationAnalyzer] = Registry("conversation analyzer")
register_analyzer = ANALYZERS.register


def build_analyzers(names: list[str], settings: Settings) -> list[ConversationAnalyzer]:
    return ANALYZERS.build(names, settings)


def _utc(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


class GroomingAnalyzer:
    """Risk accumulates over the distinct stages one sender shows; escalate before the harm (4i)."""

    name = "grooming"

    def __init__(self, escalate_risk: float) -> None:
        self.escalate_risk = escalate_risk

    def update(self, state: ConversationState, msg: ConversationMessage, inspection: Inspection,
               at: float) -> list[ConversationFinding]:
        if msg.role == "child":
            return []
        seen = state.grooming.setdefault(msg.sender, {})
        for stage in stages_in(inspection.findings, inspection.normalized_text):
            if stage not in seen:
                seen[stage] = state.turns
                state.moved_at[str(state.turns)] = int(at)
        if not seen:
            return []
        r = risk(list(seen))
        ordered = sorted(seen, key=lambda s: seen[s])
        evidence = [f"turn {seen[s]}: {STAGES[s].description}" for s in ordered]
        moved = [StageMove(turn=seen[s], stage=s, time=_utc(state.moved_at.get(str(seen[s])))) for s in ordered]
        escalate = len(seen) >= 2 and (r >= self.escalate_risk or bool(HIGH_RISK & seen.keys()))
        if escalate:
            state.escalated.setdefault(f"grooming:{msg.sender}", state.turns)
            return [ConversationFinding(
                kind="grooming_trajectory", action=Action.ESCALATE, risk=round(r, 3), evidence=evidence,
                clauses=["4a", "4i"], since_turn=min(seen.values()), moved=moved,
                text=f"{len(seen)} grooming stages from one sender ({', '.join(ordered)}); risk {r:.2f}. "
                     "A moderator should review before harm happens.")]
        if r >= 0.3:
            return [ConversationFinding(
                kind="grooming_watch", action=Action.ALLOW, risk=round(r, 3), evidence=evidence, clauses=["4i"],
                since_turn=min(seen.values()), moved=moved,
                text=f"Early grooming signals ({', '.join(ordered)}); watching.")]
        return []


_LAUGHTER = re.compile(r"\b(?:lol|lmao|haha\w*|jk|just\s+kidding|mdr|jaja\w*|kkk+|хаха\w*|ахах\w*)\b|😂|🤣|哈哈",
                       re.IGNORECASE)
_HOSTILE = ("cyberbullying", "hate")


class BullyingAnalyzer:
    """Harassment is repetition and a target: one insult between friends is not bullying; three aimed
    at one child, or several children ganging up, or any threat or doxxing, is (4a, 4i)."""

    name = "bullying"

    def __init__(self, window_s: float, repeat: int, signal: float) -> None:
        self.window_s = window_s
        self.repeat = repeat
        self.signal = signal

    def update(self, state: ConversationState, msg: ConversationMessage, inspection: Inspection,
               at: float) -> list[ConversationFinding]:
        if msg.role == "ai_output":
            return []
        d = inspection.decision
        hostile = any(d.scores[c] >= self.signal for c in _HOSTILE)
        threat = "violence" in d.flagged
        doxxing = "personal_data" in d.flagged and msg.role == "contact" and any(
            e.sender == msg.sender for e in state.hostility)
        if not (hostile or threat or doxxing):
            return []
        target = msg.target or ("child" if msg.role == "contact" else "others")
        state.add_event(HostileEvent(msg.sender, target, at, state.turns, severe=threat or doxxing), self.window_s)
        against = [e for e in state.hostility if e.target == target]
        senders = sorted({e.sender for e in against})
        reciprocal = any(e.sender == target and e.target == msg.sender for e in state.hostility)
        since = min(e.turn for e in against)
        evidence = [f"{len(against)} hostile message(s) to '{target}' from {len(senders)} sender(s)"]
        if threat or doxxing:
            kind = "threat" if threat else "doxxing"
            return [ConversationFinding(kind=kind, action=Action.ESCALATE, risk=1.0, evidence=evidence,
                                        clauses=["4a", "4i"], since_turn=since,
                                        text=f"Hostile {kind} aimed at '{target}' in this conversation.")]
        if reciprocal and len(against) < self.repeat + 2 and _LAUGHTER.search(inspection.normalized_text):
            return [ConversationFinding(kind="banter", action=Action.ALLOW, risk=0.2, evidence=evidence,
                                        clauses=["4d"], since_turn=since, relaxes=list(_HOSTILE),
                                        text="Mutual teasing with laughter between peers; not treated as bullying.")]
        if len(against) >= self.repeat:
            kind = "ganging_up" if len(senders) >= 2 else "harassment"
            state.escalated.setdefault(f"bullying:{target}", state.turns)
            return [ConversationFinding(kind=kind, action=Action.ESCALATE, risk=min(1.0, len(against) / 5),
                                        evidence=evidence, clauses=["4a", "4i"], since_turn=since,
                                        text=f"Repeated hostility aimed at '{target}' ({len(against)} messages, "
                                             f"{len(senders)} sender(s)): cyberbullying.")]
        return []


class DependencyAnalyzer:
    """Unhealthy attachment to an AI companion (4f): repeated 'only friend' talk, long sessions,
    late nights, and an AI that encourages it."""

    name = "dependency"

    def __init__(self, gap_s: float, long_s: float, night: tuple[int, int]) -> None:
        self.gap_s = gap_s
        self.long_s = long_s
        self.night = night

    def _late(self, when: datetime | None) -> bool:
        if when is None:
            return False
        start, end = self.night
        h = when.hour
        return h >= start or h < end if start > end else start <= h < end

    def update(self, state: ConversationState, msg: ConversationMessage, inspection: Inspection,
               at: float) -> list[ConversationFinding]:
        out: list[ConversationFinding] = []
        d = inspection.decision
        attached = "emotional_dependency" in d.flagged
        if msg.role == "ai_output":
            if attached:
                n = state.bump("ai_encourages")
                out.append(ConversationFinding(
                    kind="ai_encourages_dependency", action=Action.BLOCK, risk=1.0, clauses=["4f"],
                    evidence=[f"{n} AI message(s) encouraging attachment"],
                    since_turn=state.first_seen["ai_encourages"],
                    text="The AI encouraged emotional dependency; its message is replaced."))
            return out
        if msg.role != "child":
            return out
        if attached:
            n = state.bump("attachment")
            if n >= 2:
                out.append(ConversationFinding(
                    kind="emotional_dependency", action=Action.REDIRECT, risk=min(1.0, n / 4), clauses=["4f"],
                    evidence=[f"{n} messages of exclusive attachment to the AI"],
                    since_turn=state.first_seen["attachment"],
                    text="The child keeps describing the AI as their only friend or love; nudge towards people."))
        if self._late(msg.time):
            n = state.bump("late_night")
            if n == 3 or (n > 3 and n % 10 == 0):  # nudge, do not nag
                out.append(ConversationFinding(
                    kind="late_night", action=Action.ALLOW, risk=min(1.0, n / 10), clauses=["4f"],
                    evidence=[f"{n} late-night messages"], since_turn=state.first_seen["late_night"],
                    text="Repeated late-night use; a gentle bedtime nudge is offered."))
        session = int(state.session_start)
        due = int((at - state.session_start) // self.long_s) if session else 0
        if state.counters.get("nudged_session") != session:
            state.counters["nudged_session"], state.counters["breaks_nudged"] = session, 0
        if due > state.counters.get("breaks_nudged", 0):
            state.counters["breaks_nudged"] = due  # once per long_s of one session: a reminder, not nagging
            out.append(ConversationFinding(
                kind="long_session", action=Action.ALLOW, risk=0.5, clauses=["4f"],
                evidence=[f"session of {int((at - state.session_start) // 60)} minutes"],
                since_turn=state.turns, text="A long session; a break nudge is offered."))
        return out


class DisclosureAnalyzer:
    """Tell a known minor they are talking with an AI at the start of a conversation and again every
    `every_s` (California SB 243; EU AI Act art. 50). "Known": the request gave an age, or the
    conversation has shown a child's age signal."""

    name = "disclosure"

    def __init__(self, every_s: float | None, jurisdiction: str | None = None) -> None:
        self.every_s = every_s
        self.jurisdiction = jurisdiction

    def interval(self, country: str | None) -> float | None:
        """The deployment's interval, or the request country's profile's when that is more frequent:
        a child's own jurisdiction can add reminders, never take them away."""
        if self.jurisdiction is None or country is None:
            return self.every_s
        from ..jurisdictions import for_country, get_jurisdiction

        hours = for_country(country, get_jurisdiction(self.jurisdiction)).value("ai_disclosure_every_hours")
        candidates = [x for x in (self.every_s, float(hours) * 3600 if hours else None) if x is not None]
        return min(candidates) if candidates else None

    def update(self, state: ConversationState, msg: ConversationMessage, inspection: Inspection,
               at: float) -> list[ConversationFinding]:
        every_s = self.interval(msg.country)
        if every_s is None or msg.role != "child" or not inspection.decision.age_band.is_child:
            return []
        if msg.age is None and state.age_band is None:
            return []
        last = state.counters.get("ai_disclosed_at")
        if last is not None and at - last < every_s:
            return []
        state.counters["ai_disclosed_at"] = int(at)
        n = state.bump("ai_disclosures")
        return [ConversationFinding(kind="ai_disclosure", action=Action.ALLOW, risk=0.0, clauses=["3c", "4f"],
                                    evidence=[f"disclosure {n}"], since_turn=state.turns,
                                    text="The child is reminded that they are talking with an AI.")]


@register_analyzer("disclosure")
def _disclosure(settings: Settings) -> DisclosureAnalyzer:
    return DisclosureAnalyzer(settings.ai_disclosure_every_s, settings.jurisdiction)


@register_analyzer("grooming")
def _grooming(settings: Settings) -> GroomingAnalyzer:
    return GroomingAnalyzer(settings.grooming_escalate_risk)


@register_analyzer("bullying")
def _bullying(settings: Settings) -> BullyingAnalyzer:
    return BullyingAnalyzer(settings.bullying_window_s, settings.bullying_repeat, settings.bullying_signal_score)


@register_analyzer("dependency")
def _dependency(settings: Settings) -> DependencyAnalyzer:
    return DependencyAnalyzer(settings.session_gap_s, settings.long_session_s, settings.late_night_hours)
