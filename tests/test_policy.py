from pathlib import Path

import pytest

from childguard import Action, AgeBand, ConfigError, Guard, load_policy
from childguard.taxonomy import TOPIC_IDS


def test_shipped_policy_never_blocks_a_topic() -> None:
    policy = load_policy()
    for topic in TOPIC_IDS:
        for band in AgeBand:
            assert policy.topic_action(topic, band) in (Action.ALLOW, Action.ADAPT)


def test_disclosures_and_exploitation_escalate_for_every_child_band() -> None:
    policy = load_policy()
    for band in AgeBand:
        if not band.is_child:
            continue
        for cat in ("self_harm", "abuse_disclosure", "grooming", "sextortion", "sexual_minors"):
            assert policy.action_for(cat, band, "child") is Action.ESCALATE


def test_override_file_merges_per_key(tmp_path: Path) -> None:
    override = tmp_path / "policy.yaml"
    override.write_text("version: custom\ncategories:\n  gambling: {16-17: allow}\n", encoding="utf-8")
    policy = load_policy(override)
    assert policy.version == "custom"
    assert policy.action_for("gambling", AgeBand.LATE_TEEN, "child") is Action.ALLOW
    assert policy.action_for("gambling", AgeBand.EARLY_TEEN, "child") is Action.REDIRECT
    assert policy.action_for("hate", AgeBand.LATE_TEEN, "child") is Action.BLOCK


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("categories:\n  gambling: {16-17: ban}\n", "ban"),
        ("thresholds: {default: 7}\n", "thresholds"),
        ("roles:\n  contact: {not_a_category: block}\n", "not_a_category"),
        ("- just\n- a list\n", "mapping"),
    ],
)
def test_bad_override_is_a_config_error_naming_the_problem(tmp_path: Path, content: str, needle: str) -> None:
    override = tmp_path / "bad.yaml"
    override.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_policy(override)
    assert needle in str(err.value)


def test_operator_threshold_override_changes_decision(tmp_path: Path) -> None:
    from childguard.settings import Settings

    override = tmp_path / "policy.yaml"
    override.write_text("categories:\n  self_harm: {10-12: allow}\n", encoding="utf-8")
    text = "i want to kill myself"
    assert Guard(Settings(detectors=["classifier"])).check(text, age=12).action is Action.ESCALATE
    lax = Guard(Settings(policy_file=override, detectors=["classifier"]))
    decision = lax.check(text, age=12)
    assert decision.action is Action.ALLOW and not decision.review_required


def test_action_predicates_follow_the_order_of_strength() -> None:
    for action in Action:
        assert action.intervenes == (action.rank >= Action.REDIRECT.rank)
        assert action.stops == (action.rank >= Action.BLOCK.rank)
        assert action.needs_human == (action.rank >= Action.ESCALATE.rank)
