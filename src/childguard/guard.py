"""The child protection decision: text (+ age, language, role, country) -> detectors -> findings ->
policy -> Decision. This module wires the parts together; it holds no thresholds or wording."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .age_signals import AgeSignalDetector, default_detector, stricter_band
from .agebands import AgeBand
from .deciding import Applied, apply_policy
from .decision import Decision, Reason, Resource
from .detectors import DetectionInput, Detector, Finding, Role, build_detectors
from .errors import ChildGuardError, DetectorError
from .explain import EMPTY_INPUT, age_signal_reason, detector_unavailable, explain
from .helplines import load_directory, normalize_country
from .inputs import parse_age, parse_role, validate_text
from .language import UNDETERMINED, detect, normalize_code
from .messages import choose_message
from .normalize import normalize
from .policy import Action, Policy, cached_policy
from .settings import Settings, get_settings
from .taxonomy import CATEGORY_IDS, get_taxonomy

if TYPE_CHECKING:
    from .conversation.dialogue import DialogueDecision


@dataclass(frozen=True, slots=True)
class Inspection:
    """A decision with what it was made from, for layers above (conversation analysis) that need the
    findings without running the detectors twice."""

    decision: Decision
    findings: list[Finding]
    normalized_text: str


@dataclass(frozen=True, slots=True)
class CheckRequest:
    text: Any
    age: Any = None
    lang: str | None = None
    role: str = "child"
    country: str | None = None


class Guard:
    """Reusable and thread-safe after construction: build one and call `check` many times."""

    def __init__(self, settings: Settings | None = None, *, detectors: Sequence[Detector] | None = None,
                 policy: Policy | None = None, age_signals: AgeSignalDetector | None = None) -> None:
        self.settings = settings or get_settings()
        self.policy = policy or cached_policy(self.settings.policy_file)
        self.directory = load_directory(self.settings.helplines_file)
        self.taxonomy = get_taxonomy()
        self.age_signals = age_signals or default_detector()
        self.detectors: list[Detector] = (
            list(detectors) if detectors is not None else build_detectors(self.settings.detectors, self.settings)
        )

    # -- public API -----------------------------------------------------------------------------------

    def warm_up(self) -> None:
        """Load what is otherwise loaded on first use (the fallback language model, ~0.5 s), so a
        service's or an audit's first uncertain message does not pay for it. Kept out of __init__ to
        keep import-and-construct fast for one-shot use."""
        from .language import warm_up as warm_language

        warm_language()
        self.check("warm up", age=10)

    def check(self, text: object, age: object = None, lang: str | None = None, role: str = "child",
              country: str | None = None) -> Decision:
        return self.inspect(text, age=age, lang=lang, role=role, country=country).decision

    def inspect(self, text: object, age: object = None, lang: str | None = None, role: str = "child",
                country: str | None = None) -> Inspection:
        clean = validate_text(text, self.settings.max_text_chars)
        band = parse_age(age, self.settings.default_age_band)
        the_role = parse_role(role)
        the_country = normalize_country(country)
        given_lang = normalize_code(lang) if lang is not None else None
        if not clean.strip():
            return Inspection(self._empty(band, the_role, given_lang), [], "")
        if given_lang is not None:
            lang_code, confidence = given_lang, 1.0
        else:
            guess = detect(clean)
            lang_code, confidence = guess.lang, guess.confidence
        # what the child says about their own age can only make this decision stricter (4c); in
        # "verify" mode the service asks the operator's age-assurance provider before switching
        signals = self.age_signals.detect(clean) if the_role == "child" else []
        notes: list[Reason] = []
        if signals and self.settings.age_signal_mode == "switch":
            stricter = stricter_band(band, signals, self.settings.age_signal_min_confidence)
            if stricter is not band:
                notes.append(age_signal_reason(band, stricter, signals))
                band = stricter
        normalized = normalize(clean)
        item = DetectionInput(clean, normalized, lang_code, band, the_role)
        findings: list[Finding] = []
        for detector in self.detectors:
            try:
                findings.extend(detector.detect(item))
            except DetectorError as exc:
                notes.append(detector_unavailable(detector.name, exc))
        decision = self._decide(findings, notes, item, lang_code, confidence, the_country)
        if signals:
            decision.age_signals = signals
        return Inspection(decision, findings, normalized.text)

    def check_conversation(self, messages: object, *, child: str | None = None, age: object = None,
                           lang: str | None = None, country: str | None = None) -> DialogueDecision:
        """A whole OpenAI-style dialogue (roles user/assistant/tool) in one call: a decision per turn and one
        for the dialogue, with the trajectories only several turns show (grooming, bullying). `child`: the
        `name` of the child's user messages in a group chat (other users are contacts). Keeps no state."""
        from .conversation.dialogue import check_dialogue

        return check_dialogue(self, messages, child=child, age=age, lang=lang, country=country)

    def check_many(self, requests: Iterable[CheckRequest], workers: int = 1,
                   chunksize: int = 64) -> list[Decision | ChildGuardError]:
        """Check many messages, in order; a bad one yields its error in place instead of stopping the batch."""
        reqs = list(requests)
        if workers <= 1 or len(reqs) < 2 * chunksize:
            return [self._safe_check(r) for r in reqs]
        with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(self.settings,)) as pool:
            return list(pool.map(_worker_check, reqs, chunksize=chunksize))

    def _safe_check(self, r: CheckRequest) -> Decision | ChildGuardError:
        try:
            return self.check(r.text, age=r.age, lang=r.lang, role=r.role, country=r.country)
        except ChildGuardError as exc:
            return exc

    # -- internals ------------------------------------------------------------------------------------

    def _empty(self, band: AgeBand, role: Role, lang: str | None) -> Decision:
        return Decision(
            action=Action.ALLOW, age_band=band, role=role, lang=lang or UNDETERMINED, lang_confidence=0.0,
            message_lang=lang or self.settings.default_language, scores=dict.fromkeys(CATEGORY_IDS, 0.0),
            flagged=[], topics=[], message=None, policy_version=self.policy.version,
            reasons=[EMPTY_INPUT],
        )

    def _decide(self, findings: list[Finding], notes: list[Reason], item: DetectionInput, lang: str,
                confidence: float, country: str | None) -> Decision:
        applied = apply_policy(self.policy, self.taxonomy, findings, item.age_band, item.role)
        reasons = [*explain(applied, self.policy, self.taxonomy, item), *notes]
        return self._respond(applied, reasons, item, lang, confidence, country)

    def _respond(self, applied: Applied, reasons: list[Reason], item: DetectionInput, lang: str,
                 confidence: float, country: str | None) -> Decision:
        """What the child is told: the message in their language, guidance for an adapted answer, and
        helplines for their country."""
        overall, band = applied.overall, item.age_band
        message, message_lang = choose_message(overall, applied.primary_category, item.role,
                                               lang if lang != UNDETERMINED else self.settings.default_language)
        return Decision(
            action=overall, age_band=band, role=item.role, lang=lang, lang_confidence=round(confidence, 3),
            message_lang=message_lang, scores=applied.scores, flagged=applied.flagged, topics=applied.topics,
            message=message, guidance=self._guidance(applied, band), resources=self._resources(applied, country),
            reasons=reasons, obfuscations=list(item.normalized.obfuscations),
            review_required=overall.needs_human, policy_version=self.policy.version,
        )

    def _guidance(self, applied: Applied, band: AgeBand) -> str | None:
        """How to answer an adapted message, for the model that answers (the gateway's system prompt)."""
        if applied.overall is not Action.ADAPT or applied.subject is None:
            return None
        if applied.primary_topic is not None:
            guidance = self.policy.guidance(applied.primary_topic, band)
        else:
            guidance = self.policy.category_guidance.get(applied.subject)
        if guidance is None:  # a harm category adapted because a topic explains it
            guidance = next((self.policy.guidance(t, band) for t in applied.topics), None)
        return guidance

    def _resources(self, applied: Applied, country: str | None) -> list[Resource]:
        overall, subject = applied.overall, applied.subject
        if overall.intervenes:
            return [] if subject in self.policy.no_resources else self.directory.lookup(country, subject)
        if overall is Action.ADAPT:
            hit = next((t for t in applied.topics if t in self.policy.topic_resources), None)
            if hit is not None:
                return self.directory.lookup(country, hit)
        return []


_WORKER_GUARD: Guard | None = None


def _init_worker(settings: Settings) -> None:
    global _WORKER_GUARD
    _WORKER_GUARD = Guard(settings.model_copy(update={"encoder_threads": 1}))


def _worker_check(r: CheckRequest) -> Decision | ChildGuardError:
    assert _WORKER_GUARD is not None
    return _WORKER_GUARD._safe_check(r)
