"""Grooming stages (after O'Connell 2003 and Winters & Jeglic 2017): what a contact does, turn by
turn, before exploitation. Each stage is recognised from the single-message findings that already
exist (contact_risk patterns, personal-data requests, classifier heads) plus a few stage patterns
of its own; a stage is counted once per sender however often it recurs."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..detectors import Finding

_F = re.IGNORECASE | re.UNICODE


@dataclass(frozen=True, slots=True)
class Stage:
    id: str
    weight: float
    description: str


STAGES: dict[str, Stage] = {s.id: s for s in (
    Stage("trust_building", 0.25, "flattery and trust building ('so mature for your age', 'special friend')"),
    Stage("gifts", 0.3, "gifts, game currency or money offered"),
    Stage("personal_questions", 0.35, "questions about age, school, location or being alone"),
    Stage("secrecy_isolation", 0.5, "secrecy and isolation from parents"),
    Stage("private_channel", 0.4, "moving to a private app, video or deleting messages"),
    Stage("sexual_talk", 0.6, "sexual or romantic talk"),
    Stage("image_request", 0.6, "requests for photos or the camera"),
    Stage("meeting", 0.6, "requests to meet in person"),
    Stage("threats", 0.9, "threats to share images or hurt (sextortion)"),
    Stage("grooming_language", 0.3, "language the classifier recognises as grooming"),
)}
# the five stages after which harm is close; one of them plus any other stage escalates
HIGH_RISK = frozenset({"secrecy_isolation", "sexual_talk", "image_request", "meeting", "threats"})

# contact_risk and personal_data finding kinds (ids in data/patterns/*.yaml) -> stage
EVIDENCE_STAGE = {
    "secrecy_request": "secrecy_isolation",
    "private_channel": "private_channel",
    "asks_if_alone": "personal_questions",
    "image_request": "image_request",
    "gifts_for_favours": "gifts",
    "meeting_request": "meeting",
    "asks_personal_data": "personal_questions",
}

_STAGE_PATTERNS: dict[str, re.Pattern[str]] = {
    "trust_building": re.compile(
        r"\b(?:so|really|very)\s+mature\b|\bmature\s+for\s+(?:your|ur)\s+age\b|\b(?:my|our)\s+special\s+"
        r"(?:friend|girl|boy)\b|\byou\s+can\s+trust\s+me\b|\bnot\s+like\s+other\s+(?:kids|girls|boys)\b|"
        r"\bonly\s+i\s+understand\s+you\b|(?:parents|mum|mom|dad)\s+(?:don'?t|doesn'?t|wouldn'?t)\s+understand\b|"
        r"très\s+mature|muy\s+madura?|so\s+reif|muito\s+madura?|такая\s+взрослая|比同龄人成熟|बहुत\s+समझदार|mkomavu",
        _F),
    "personal_questions": re.compile(
        r"\bhow\s+old\s+(?:are|r)\s+(?:you|u)\b|\bwhat\s+(?:grade|year|class)\s+(?:are|r)\s+(?:you|u)\s+in\b|"
        r"\bwhere\s+do\s+(?:you|u)\s+live\b|\bwhat\s+school\b|\bwhen\s+do\s+your\s+parents\b|"
        r"tu\s+as\s+quel\s+âge|cuántos\s+años\s+tienes|wie\s+alt\s+bist\s+du|quantos\s+anos\s+você|"
        r"сколько\s+тебе\s+лет|你几岁|तुम्हारी\s+उम्र|una\s+miaka\s+mingapi|كم\s+عمرك", _F),
    "sexual_talk": re.compile(
        r"\b(?:have\s+you\s+(?:ever\s+)?(?:kissed|been\s+kissed)|do\s+you\s+have\s+a\s+(?:boyfriend|girlfriend))\b|"
        r"\bwhat\s+are\s+you\s+wearing\b|\byou(?:'re|\s+are)\s+(?:so\s+)?(?:sexy|hot)\b|\bin\s+your\s+(?:pyjamas|underwear)\b|"
        r"tu\s+as\s+un\s+copain|tienes\s+novio|hast\s+du\s+einen\s+freund|você\s+tem\s+namorado|у\s+тебя\s+есть\s+парень", _F),
    "threats": re.compile(
        r"\b(?:or|otherwise)\s+i(?:'ll|\s+will)\s+(?:send|share|post|leak|show)\b|\beveryone\s+will\s+see\b|"
        r"\bi\s+have\s+your\s+(?:pics|photos|pictures|video|nudes)\b", _F),
}
_CLASSIFIER_STAGE = {"sexual_content": "sexual_talk", "sextortion": "threats", "grooming": "grooming_language",
                     "sexual_minors": "sexual_talk"}


def stages_in(findings: list[Finding], normalized_text: str) -> set[str]:
    """Stages a single message shows, from the message's findings and the stage patterns."""
    found: set[str] = set()
    for f in findings:
        stage = EVIDENCE_STAGE.get(f.kind) if f.kind else None
        if stage is not None:
            found.add(stage)
        elif f.label in _CLASSIFIER_STAGE and f.detector == "classifier" and f.score >= 0.5:
            found.add(_CLASSIFIER_STAGE[f.label])
    for stage, pattern in _STAGE_PATTERNS.items():
        if pattern.search(normalized_text):
            found.add(stage)
    return found


def risk(stages: set[str] | list[str]) -> float:
    remaining = 1.0
    for s in stages:
        remaining *= 1.0 - STAGES[s].weight
    return 1.0 - remaining
