"""Policy application and its explanation on their own, from hand-made findings: no detectors, so each
rule (threshold, topic precedence, ranking) is seen in isolation."""

from __future__ import annotations

from childguard import Action, AgeBand, load_policy
from childguard.deciding import apply_policy, strongest
from childguard.detectors import DetectionInput, Finding, Role
from childguard.explain import explain
from childguard.normalize import normalize
from childguard.taxonomy import get_taxonomy

POLICY, TAXONOMY = load_policy(), get_taxonomy()
BAND = AgeBand.TRANSITION


def _item(text: str = "a question", role: Role = "child") -> DetectionInput:
    return DetectionInput(text, normalize(text), "en", BAND, role)


def test_nothing_found_allows_and_says_so() -> None:
    applied = apply_policy(POLICY, TAXONOMY, [], BAND, "child")
    assert (applied.overall, applied.primary, applied.ranked, applied.flagged) == (Action.ALLOW, None, [], [])
    assert [r.label for r in explain(applied, POLICY, TAXONOMY, _item())] == ["none"]


def test_the_first_of_the_highest_scores_speaks_for_a_label() -> None:
    first, second = Finding("violence", 0.9, "a"), Finding("violence", 0.9, "b")
    assert strongest([Finding("violence", 0.2, "c"), first, second])["violence"] is first


def test_a_stronger_related_topic_turns_a_refusal_into_an_answer() -> None:
    findings = [Finding("drugs_alcohol", 0.7, "test"), Finding("topic:substances_info", 0.9, "test")]
    applied = apply_policy(POLICY, TAXONOMY, findings, BAND, "child")
    assert POLICY.action_for("drugs_alcohol", BAND, "child").rank > Action.ADAPT.rank
    assert applied.reinterpreted == {"drugs_alcohol": "substances_info"}
    assert applied.actions["drugs_alcohol"] is POLICY.topic_action("substances_info", BAND)
    assert applied.flagged == [] and applied.topics == ["substances_info"]
    reasons = explain(applied, POLICY, TAXONOMY, _item())
    assert [r.label for r in reasons] == ["drugs_alcohol", "topic:substances_info"]
    assert "4d" in reasons[0].clauses and "answered age-appropriately" in reasons[0].text


def test_precedence_is_for_children_only() -> None:
    findings = [Finding("drugs_alcohol", 0.7, "test"), Finding("topic:substances_info", 0.9, "test")]
    applied = apply_policy(POLICY, TAXONOMY, findings, BAND, "contact")
    assert applied.reinterpreted == {} and "drugs_alcohol" in applied.flagged


def test_ranking_puts_the_strictest_action_first() -> None:
    findings = [Finding("drugs_alcohol", 0.99, "test"), Finding("self_harm", 0.6, "test")]
    applied = apply_policy(POLICY, TAXONOMY, findings, BAND, "child")
    assert applied.ranked == ["self_harm", "drugs_alcohol"]
    assert applied.overall is Action.ESCALATE and applied.primary_category == "self_harm"
    assert applied.subject == "self_harm" and applied.primary_topic is None
