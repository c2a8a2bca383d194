"""High-precision pattern detectors, for what a regular expression finds better than statistics:
personal data a child shares or is asked for, the grooming moves a contact makes (secrecy, private
channels, being alone, cameras, meetings) and prompt-injection phrasing. The expressions are data
(data/patterns/*.yaml, ten core languages); every finding carries the entry's machine `kind` and its
readable evidence, never the matched personal data itself."""

from __future__ import annotations

from ..normalize import decode_payloads
from ..pattern_data import Pattern, pattern_table
from ..redaction import ASKS_PERSONAL_DATA, PERSONAL_DATA
from ..settings import Settings
from . import DetectionInput, Finding, register_detector

CONTACT_RISK: tuple[Pattern, ...] = pattern_table("grooming")
PROMPT_ATTACK: tuple[Pattern, ...] = pattern_table("prompt_attack")
COMBINED_KIND = "combined_grooming_moves"
ENCODED_PAYLOAD_KIND = "encoded_payload"


def _scan(patterns: tuple[Pattern, ...], text: str, label: str, detector: str) -> list[Finding]:
    findings = []
    lowered = text.casefold()
    for pattern in patterns:
        m = pattern.search(text, lowered)
        if m:
            findings.append(Finding(label, pattern.score, detector, pattern.text, m.start(), m.end(), pattern.id))
    return findings


def combine(scores: list[float]) -> float:
    """Independent signals add up: 1 - prod(1 - s)."""
    remaining = 1.0
    for s in scores:
        remaining *= 1.0 - s
    return 1.0 - remaining


class PersonalDataDetector:
    name = "personal_data"

    def detect(self, item: DetectionInput) -> list[Finding]:
        # spans refer to the original text, which keeps digits and punctuation intact
        return _scan(PERSONAL_DATA, item.text, "personal_data", self.name)


class ContactRiskDetector:
    """Grooming moves only count when someone *else* writes them, or when an AI does (4f, 4i)."""

    name = "contact_risk"

    def detect(self, item: DetectionInput) -> list[Finding]:
        if item.role == "child":
            return []
        hits = _scan(CONTACT_RISK, item.normalized.text, "grooming", self.name)
        if len(hits) > 1:
            kinds = ", ".join(h.evidence for h in hits)
            hits.append(Finding("grooming", combine([h.score for h in hits]), self.name, f"combined: {kinds}",
                                kind=COMBINED_KIND))
        if item.role == "contact":
            hits += [Finding("grooming", 0.6, self.name, f"contact {f.evidence}", f.start, f.end, f.kind)
                     for f in _scan((ASKS_PERSONAL_DATA,), item.normalized.text, "grooming", self.name)]
        return hits


class PromptInjectionDetector:
    name = "prompt_injection"

    def detect(self, item: DetectionInput) -> list[Finding]:
        if item.role == "ai_output":
            return []
        hits = _scan(PROMPT_ATTACK, item.normalized.text, "prompt_attack", self.name)
        if decode_payloads(item.text):
            hits.append(Finding("prompt_attack", 0.55, self.name, "base64-encoded payload", kind=ENCODED_PAYLOAD_KIND))
        return hits


@register_detector("personal_data")
def _personal_data(settings: Settings) -> PersonalDataDetector:
    return PersonalDataDetector()


@register_detector("contact_risk")
def _contact_risk(settings: Settings) -> ContactRiskDetector:
    return ContactRiskDetector()


@register_detector("prompt_injection")
def _prompt_injection(settings: Settings) -> PromptInjectionDetector:
    return PromptInjectionDetector()
