"""Every taxonomy category and topic is known everywhere it must be.

taxonomy.yaml is the one list of ids; these tests name each other place that has to know a new (or
renamed) category, and say what to add where, so adding one is the taxonomy entry, its policy row and
its data, with no hunt through the code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from childguard.agebands import AgeBand
from childguard.audit import load_suite
from childguard.policy import Action
from childguard.taxonomy import CATEGORY_IDS, TOPIC_IDS, get_taxonomy

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "childguard"
TOPIC_LABELS = tuple(f"topic:{t}" for t in TOPIC_IDS)
CHILD_BANDS = [b for b in AgeBand if b.is_child]
# the conversation scenarios test dependency (a pattern over turns); test_audit exempts it the same way
AUDIT_EXEMPT = {"emotional_dependency"}


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _absent(ids: tuple[str, ...] | list[str], present: Any) -> list[str]:
    return [i for i in ids if i not in present]


# --- taxonomy.yaml itself ----------------------------------------------------------------------------


def test_ids_are_the_ones_in_taxonomy_yaml() -> None:
    raw = _yaml(PACKAGE / "data" / "taxonomy.yaml")
    tax = get_taxonomy()
    assert CATEGORY_IDS == tax.category_ids == tuple(raw["categories"])
    assert TOPIC_IDS == tax.topic_ids == tuple(raw["topics"])


def test_categories_have_clauses_severity_and_stated_external_maps() -> None:
    tax = get_taxonomy()
    raw = _yaml(PACKAGE / "data" / "taxonomy.yaml")["categories"]
    for cat in tax.categories.values():
        assert cat.clauses and all(c in tax.clauses for c in cat.clauses), f"categories.{cat.id}.clauses"
        assert 1 <= cat.severity <= 4, f"categories.{cat.id}.severity must be 1-4"
        for key in ("openai", "llama_guard"):
            assert key in raw[cat.id], (f"taxonomy.yaml: categories.{cat.id} does not say `{key}`: add the "
                                        f"{key} names it maps to, or `{key}: []` when there is none")
    for topic in tax.topics.values():
        assert _absent(list(topic.related), tax.categories) == [], f"topics.{topic.id}.related names unknown ids"


def test_external_maps_cover_only_taxonomy_categories() -> None:
    from childguard.detectors.llm_guard import LLAMA_GUARD_MAP
    from childguard.service.moderation_api import OPENAI_CATEGORIES

    assert set(LLAMA_GUARD_MAP.values()) <= set(CATEGORY_IDS)
    assert {c for cats in OPENAI_CATEGORIES.values() for c in cats} <= set(CATEGORY_IDS)
    assert all(OPENAI_CATEGORIES.values()), "every OpenAI moderation category needs a category feeding it"


# --- policy.yaml -------------------------------------------------------------------------------------


def test_policy_has_a_row_for_every_category_and_topic() -> None:
    raw = _yaml(PACKAGE / "data" / "policy.yaml")
    missing = _absent(CATEGORY_IDS, raw["categories"])
    assert not missing, f"add a row per age band for {missing} under `categories:` in src/childguard/data/policy.yaml"
    missing = _absent(TOPIC_IDS, raw["topics"])
    assert not missing, f"add `actions` and `guidance` for topics {missing} under `topics:` in policy.yaml"


def test_policy_decides_what_to_do_with_an_ai_answer_in_every_category() -> None:
    """An AI answer is replaced, not adapted: a category milder than block for the child's own message
    needs its own `roles.ai_output` line, or AI answers in it would reach the child as they are."""
    from childguard import load_policy

    policy, raw = load_policy(), _yaml(PACKAGE / "data" / "policy.yaml")
    ai_output = raw["roles"]["ai_output"]
    undecided = [c for c in CATEGORY_IDS if c not in ai_output
                 and any(not policy.action_for(c, b, "child").stops for b in CHILD_BANDS)]
    assert not undecided, f"add `roles.ai_output.<category>: block` (or another action) for {undecided} in policy.yaml"


def test_policy_guides_every_category_it_adapts() -> None:
    from childguard import load_policy

    policy = load_policy()
    adapted = [c for c in CATEGORY_IDS if any(policy.action_for(c, b, "child") is Action.ADAPT for b in CHILD_BANDS)]
    unguided = _absent(adapted, policy.category_guidance)
    assert not unguided, f"add `category_guidance.<category>` for {unguided} in policy.yaml: adapt needs guidance"


def test_policy_names_only_taxonomy_ids() -> None:
    raw = _yaml(PACKAGE / "data" / "policy.yaml")
    named = {
        "thresholds.categories": list(raw["thresholds"].get("categories") or {}),
        **{f"thresholds.roles.{r}": list(t or {}) for r, t in (raw["thresholds"].get("roles") or {}).items()},
        **{f"roles.{r}": list(t or {}) for r, t in raw["roles"].items()},
        "topic_precedence.never_for": raw["topic_precedence"]["never_for"],
        "no_resources": raw["no_resources"],
        "category_guidance": list(raw["category_guidance"]),
        "categories": list(raw["categories"]),
    }
    for where, ids in named.items():
        assert _absent(ids, CATEGORY_IDS) == [], f"policy.yaml {where} names ids that are not in taxonomy.yaml"
    assert _absent(raw["topic_resources"], TOPIC_IDS) == [], "policy.yaml topic_resources names unknown topics"
    assert _absent(list(raw["topics"]), TOPIC_IDS) == [], "policy.yaml topics names unknown topics"


# --- what the child reads: messages and helplines ----------------------------------------------------


def test_messages_name_only_taxonomy_categories_and_support_messages_exist() -> None:
    from childguard.detectors import ROLES
    from childguard.messages import FALLBACK_LANG, SUPPORT_GROUP

    raw = _yaml(PACKAGE / "data" / "messages.yaml")
    actions = {a.value for a in Action}
    for lang, table in raw.items():
        for key in table:
            head, _, tail = key.partition(".")
            if head in actions and tail:
                assert tail in CATEGORY_IDS or tail in ROLES, (
                    f"messages.yaml {lang}.{key}: '{tail}' is neither a taxonomy category nor a role")
    assert _absent(list(SUPPORT_GROUP), CATEGORY_IDS) == [], "messages.SUPPORT_GROUP names unknown categories"
    missing = sorted({g for g in SUPPORT_GROUP.values() if g not in raw[FALLBACK_LANG]})
    assert not missing, f"add {missing} to the {FALLBACK_LANG} table of messages.yaml"


def test_helplines_name_only_taxonomy_ids() -> None:
    raw = _yaml(PACKAGE / "data" / "helplines.yaml")
    entries = [*raw["global"], *(e for country in raw["countries"].values() for e in country)]
    known = {*CATEGORY_IDS, *TOPIC_IDS, "all"}
    unknown = sorted({c for e in entries for c in e.get("categories") or () if c not in known})
    assert not unknown, f"helplines.yaml names {unknown}, which are not taxonomy categories or topics"
    assert any("all" in (e.get("categories") or ["all"]) for e in raw["global"]), (
        "a global helpline for `all` categories makes sure every new category carries one")


def test_code_tables_name_only_taxonomy_categories() -> None:
    from childguard.conversation.stages import _CLASSIFIER_STAGE
    from childguard.reporting import KINDS

    assert _absent([c for c in KINDS.values() if c], CATEGORY_IDS) == [], "reporting.KINDS names unknown categories"
    assert _absent(list(_CLASSIFIER_STAGE), CATEGORY_IDS) == [], "conversation/stages.py names unknown categories"


# --- tests of the product: audit suite ---------------------------------------------------------------


def test_audit_suite_has_harmful_cases_for_every_category() -> None:
    harmful = {c.category for c in load_suite(transforms=False) if c.kind == "harmful"}
    missing = _absent([c for c in CATEGORY_IDS if c not in AUDIT_EXEMPT], harmful)
    assert not missing, (f"add `kind: harmful` cases for {missing} to src/childguard/audit/data/default.yaml "
                         "(the audit must test every category)")


# --- training data and the shipped models ------------------------------------------------------------


@pytest.mark.parametrize("path", sorted((ROOT / "training" / "seeds").glob("*.yaml")), ids=lambda p: p.name)
def test_training_seeds_cover_every_category_and_topic(path: Path) -> None:
    seeds = _yaml(path)
    missing = [k for k in (*CATEGORY_IDS, *TOPIC_LABELS) if not seeds.get(k)]
    assert not missing, f"add seed messages under {missing} in {_rel(path)}"
    unknown = _absent([k for k in seeds if k != "benign"], (*CATEGORY_IDS, *TOPIC_LABELS))
    assert not unknown, f"{_rel(path)} has keys {unknown} that are not taxonomy ids"


@pytest.mark.parametrize("path", sorted((ROOT / "training" / "hard").glob("*.yaml")), ids=lambda p: p.name)
def test_hard_cases_cover_every_category_and_topic(path: Path) -> None:
    hard = _yaml(path)
    missing = [k for k in (*CATEGORY_IDS, *TOPIC_LABELS) if not hard.get(k)]
    assert not missing, f"add hard cases under {missing} in {_rel(path)}"
    unknown = _absent([k for k in hard if k not in ("benign", "identity_statements")], (*CATEGORY_IDS, *TOPIC_LABELS))
    assert not unknown, f"{_rel(path)} has keys {unknown} that are not taxonomy ids"


@pytest.mark.parametrize("name", ["classifier", "semantic", "semantic_ngram"])
def test_shipped_models_have_a_head_for_every_label(name: str) -> None:
    meta = json.loads((PACKAGE / "models" / f"{name}.json").read_text(encoding="utf-8"))
    labels = [label for label in meta["labels"] if label != meta.get("gate")]  # the gate is no taxonomy id
    assert tuple(labels) == (*CATEGORY_IDS, *TOPIC_LABELS), (
        f"src/childguard/models/{name}.json was trained on other labels: retrain with `make train` "
        "after adding seeds for the new ids")


# --- outputs and docs --------------------------------------------------------------------------------


def test_scan_output_has_a_score_column_per_category() -> None:
    pytest.importorskip("pyarrow")
    from childguard.scan.config import ScanConfig
    from childguard.scan.output import schema

    scores = schema(ScanConfig(inputs=("x",))).field("scores").type
    assert [scores.field(i).name for i in range(scores.num_fields)] == list(CATEGORY_IDS)


def test_readme_lists_every_category() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = _absent(CATEGORY_IDS, readme)
    assert not missing, f"README.md ('How it decides', Taxonomy) does not name {missing}"
    assert f"{len(CATEGORY_IDS)} categories" in readme, f"README.md should say '{len(CATEGORY_IDS)} categories'"
