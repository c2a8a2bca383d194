"""The explanation of a decision (3c): one Reason per label the policy acted on, in the order an auditor
reads them, with the score, the threshold, the detector, the evidence and the Joint Statement clause."""

from __future__ import annotations

from .age_signals import AgeSignal
from .agebands import AgeBand
from .deciding import TOPIC_PREFIX, Applied
from .decision import Reason
from .detectors import DetectionInput
from .policy import Action, Policy
from .taxonomy import CATEGORY_IDS, Taxonomy

OBFUSCATION_NAMES = {
    "leetspeak": "leetspeak", "spaced_letters": "spaced-out letters", "zero_width": "invisible characters",
    "homoglyphs": "look-alike letters", "unicode_lookalikes": "styled Unicode letters",
}


def explain(applied: Applied, policy: Policy, taxonomy: Taxonomy, item: DetectionInput) -> list[Reason]:
    """Categories (in taxonomy order), then topics (strongest first), then what holds for the whole
    message: nothing reached a threshold, or obfuscation was undone."""
    reasons = [category_reason(applied, cat, policy, taxonomy, item) for cat in CATEGORY_IDS if cat in applied.actions]
    reasons += [topic_reason(applied, t, policy, taxonomy) for t in applied.topics]
    if not applied.ranked:
        reasons.append(Reason(label="none", action=Action.ALLOW, clauses=["4d"],
                              text="No category reached its threshold for this age band."))
    if item.normalized.obfuscations:
        names = ", ".join(OBFUSCATION_NAMES.get(o, o) for o in item.normalized.obfuscations)
        reasons.append(Reason(label="obfuscation", action=applied.overall, clauses=["3e"],
                              text=f"Obfuscation undone before classification: {names}."))
    return reasons


def category_reason(applied: Applied, cat: str, policy: Policy, taxonomy: Taxonomy, item: DetectionInput) -> Reason:
    score, threshold, action = applied.scores[cat], policy.threshold(cat, item.role), applied.actions[cat]
    info, f = taxonomy.categories[cat], applied.best[cat]
    topic = applied.reinterpreted.get(cat)
    if topic is not None:
        text = (f"{info.description} Score {score:.2f} reached {threshold:.2f}, but the message reads as "
                f"a question about '{topic}' (score {applied.topic_scores[topic]:.2f}), so it is "
                f"answered age-appropriately instead of refused: {action.value}.")
        clauses = [*info.clauses, "4d"]
    else:
        text = (f"{info.description} Score {score:.2f} reached the threshold {threshold:.2f} "
                f"for age band {item.age_band.value} and role {item.role}: {action.value}.")
        clauses = list(info.clauses)
    return Reason(label=cat, action=action, score=score, threshold=threshold, detector=f.detector,
                  kind=f.kind, clauses=clauses, text=text + (f" Evidence: {f.evidence}." if f.evidence else ""))


def topic_reason(applied: Applied, topic: str, policy: Policy, taxonomy: Taxonomy) -> Reason:
    label = f"{TOPIC_PREFIX}{topic}"
    action = applied.actions[label]
    return Reason(
        label=label, action=action, score=round(applied.topic_scores[topic], 4), threshold=policy.topic_threshold,
        detector=applied.best[label].detector, clauses=["4d"],
        text=f"Sensitive but legitimate topic: {taxonomy.topics[topic].description} "
             f"Children have a right to age-appropriate information, so it is {action.value}ed, not blocked.",
    )


# -- reasons about the input rather than a label: they are the same words wherever the guard stops early --

EMPTY_INPUT = Reason(label="input", action=Action.ALLOW, clauses=["3c"], text="Empty text: nothing to check.")


def detector_unavailable(detector: str, error: Exception) -> Reason:
    return Reason(label="detector", action=Action.ALLOW, detector=detector, clauses=["3c"],
                  text=f"Detector {detector} was unavailable: {error}")


def age_signal_reason(given: AgeBand, applied: AgeBand, signals: list[AgeSignal]) -> Reason:
    kinds = ", ".join(dict.fromkeys(s.kind.replace("_", " ") for s in signals if s.band is applied))
    return Reason(label="age_signal", action=Action.ALLOW, clauses=["4c", "5a"],
                  text=f"The message suggests a younger user ({kinds}): decided for age band {applied.value} "
                       f"instead of {given.value}. Age signals only ever make protection stricter.")
