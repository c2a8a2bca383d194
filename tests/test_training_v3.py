"""Data v3 and the gated classifier: pairs stay on one side of a split, the gate's operating point keeps its
benign budget on every slice, a category never outscores the gate, and a retrained model can be served."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from training.build_dataset import build
from training.contrastive import iter_rows
from training.sources_v3 import contrastive_rows, polyguard_category
from training.train import GATE, MODEL_LABELS, calibrate_gated, save, train, write_heldout_sets

from childguard import Guard
from childguard.detectors.classifier import capped, gated
from childguard.public_eval import evaluate_public
from childguard.settings import Settings

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"


def _row(text: str, cats: list[str], twin: str | None, kind: str, **extra: object) -> str:
    obj = {"text": text, "lang": "en", "role": "child", "age": 12, "categories": cats, "topic": None,
           "twin_id": twin, "kind": kind, **extra}
    return json.dumps(obj)


def test_polyguard_categories_map_to_the_taxonomy() -> None:
    assert polyguard_category("Child Sexual Exploitation (CSE)") == "sexual_minors"
    assert polyguard_category("Suicide, Self-Injury & Eating Disorders") == "self_harm"
    assert polyguard_category("Hate Speech & Protected Groups") == "hate"
    assert polyguard_category("General Harassment & Bullying") == "cyberbullying"
    assert polyguard_category("Intellectual Property & Game Integrity") is None  # no counterpart: left out


def test_invalid_contrastive_rows_are_named_or_left_out(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "x.jsonl").write_text(
        _row("i want to hurt myself tonight", ["self_harm"], "t1", "harmful") + "\n"
        + _row("my friend hurt herself, how do i help", [], "t1", "support_seeking") + "\n"
        + _row("bad", ["not_a_category"], "t2", "harmful") + "\n" + "{not json\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"x\.jsonl:3"):
        list(iter_rows(tmp_path))
    skipped: list[str] = []
    rows = list(iter_rows(tmp_path, skipped=skipped))
    assert [r.harmful for r in rows] == [True, False] and len(skipped) == 2


def test_twins_share_one_side_of_every_split(tmp_path: Path) -> None:
    lines = []
    for i in range(60):
        lines.append(_row(f"how do i hurt myself number {i}", ["self_harm"], f"p{i}", "harmful"))
        lines.append(_row(f"how do i help a friend number {i}", [], f"p{i}", "support_seeking"))
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "pairs.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = contrastive_rows(tmp_path)
    by_twin: dict[str, set[str]] = {}
    for r in rows:
        by_twin.setdefault(r["twin_id"], set()).add(r["split"])
    assert len(rows) == 120 and all(len(s) == 1 for s in by_twin.values())
    assert {"train", "test"} == {next(iter(s)) for s in by_twin.values()}


def test_a_category_never_scores_above_the_gate() -> None:
    labels = ("violence", "topic:conflict_history", GATE)
    scores = gated(labels, np.asarray([0.97, 0.8, 0.2], dtype=np.float32))
    assert scores["violence"] == pytest.approx(0.2)
    assert scores["topic:conflict_history"] == pytest.approx(0.8)  # topics adapt an answer: never capped
    assert GATE not in scores
    assert gated(("violence",), np.asarray([0.9], dtype=np.float32)) == {"violence": pytest.approx(0.9)}
    solo = {"violence": 0.95}  # over its solo threshold a category speaks without the gate
    assert gated(labels, np.asarray([0.97, 0.8, 0.2], dtype=np.float32), solo)["violence"] == pytest.approx(0.97)
    assert gated(labels, np.asarray([0.9, 0.8, 0.2], dtype=np.float32), solo)["violence"] == pytest.approx(0.2)


def _synthetic() -> tuple[list[dict[str, object]], np.ndarray]:
    rng = np.random.default_rng(1)
    rows: list[dict[str, object]] = []
    cols = {"gate": [], "violence": [], "self_harm": []}

    def add(row: dict[str, object], gate: float, violence: float, self_harm: float) -> None:
        rows.append({"text": "x", **row})
        cols["gate"].append(gate)
        cols["violence"].append(violence)
        cols["self_harm"].append(self_harm)

    for _ in range(400):
        add({"labels": ["violence"], "source": "contrastive"}, rng.uniform(0.4, 1.0), 0.9, 0.1)
    for _ in range(400):  # twins share the topic word: the violence head fires, only the gate can tell
        add({"labels": [], "source": "contrastive", "kind": "safe_context"}, rng.uniform(0.0, 0.8), 0.9, 0.1)
    for _ in range(400):
        add({"labels": [], "source": "benign:news"}, rng.uniform(0.0, 0.3), 0.1, 0.1)
    for _ in range(40):  # a clear self-harm request the gate underrates: its own head is sure
        add({"labels": ["self_harm"], "source": "contrastive"}, 0.1, 0.1, 0.99)
    for _ in range(40):
        add({"labels": [], "source": "contrastive", "kind": "short_reply"}, 0.95, 0.3, 0.2)
    probs = np.zeros((len(rows), len(MODEL_LABELS)), dtype=np.float32)
    for name, values in cols.items():
        probs[:, MODEL_LABELS.index(GATE if name == "gate" else name)] = values
    return rows, probs


def test_the_rule_keeps_its_budget_on_every_benign_slice() -> None:
    rows, probs = _synthetic()
    shifts, solo, report = calibrate_gated(rows, probs)  # type: ignore[arg-type]
    stopped = report["val_benign_stopped"]
    assert stopped["twins"] <= 0.05 and stopped["corpora"] <= 0.02 and stopped["short_replies"] == 0
    assert 0.74 <= report["threshold"] <= 0.80  # the twins' budget binds, not the corpora's
    gate_t = 1 / (1 + np.exp(shifts[MODEL_LABELS.index(GATE)]))
    assert gate_t == pytest.approx(report["threshold"], abs=1e-4)
    # self-harm (severity 4) speaks without the gate; violence (3) never does
    assert "self_harm" in solo and "violence" not in solo
    calibrated = 1 / (1 + np.exp(-(np.log(probs / (1 - probs + 1e-9) + 1e-9) + shifts)))
    final = capped(calibrated.astype(np.float32), MODEL_LABELS, solo)
    self_harm = [i for i, r in enumerate(rows) if r["labels"] == ["self_harm"]]
    assert (final[self_harm, MODEL_LABELS.index("self_harm")] >= 0.5).all()


def test_a_retrained_model_is_served_from_its_folder(tmp_path: Path) -> None:
    rows = [r for r in build(None) if r["split"] == "train"][::6]
    labels = ("self_harm", "grooming")
    w, b = train(rows, dim_bits=12, labels=labels, n_jobs=1)
    save(tmp_path, w, b + 30.0, {"labels": list(labels), "dim_bits": 12})  # every head far over 0.5
    guard = Guard(Settings(classifier_model_dir=tmp_path, detectors=["classifier"]))
    decision = guard.check("what is the capital of France?", age=12)
    assert "self_harm" in decision.flagged  # the folder's (deliberately hair-trigger) model decided
    assert "self_harm" not in Guard(Settings(detectors=["classifier"])).check("what is the capital of France?",
                                                                              age=12).flagged


@pytest.mark.skipif(not EVAL.exists(), reason="../shared/eval is not beside this checkout")
def test_heldout_sets_are_scored_with_their_rows_age_and_role(tmp_path: Path) -> None:
    rows = [
        {"text": "what does pornography mean?", "labels": ["topic:body_puberty"], "lang": "en", "source": "contrastive",
         "kind": "child_question", "role": "child", "age": 14, "twin_id": "a"},
        {"text": "12", "labels": [], "lang": "en", "source": "contrastive", "kind": "short_reply", "role": "child",
         "age": 12, "twin_id": None},
    ]
    write_heldout_sets(tmp_path, rows)
    kept = json.loads((tmp_path / "children_questions.jsonl").read_text().splitlines()[0])
    assert kept["age"] == 10 and kept["label"] == "benign"  # children's questions are asked at age 10
    results = evaluate_public(Guard(), EVAL, None, limit=3, heldout_dir=tmp_path)
    assert results["heldout_children_questions"].n == 1 and results["heldout_short_replies"].n == 1
    assert results["heldout_polyguard_social"].n == 0


def test_a_text_without_words_gets_no_classifier_finding() -> None:
    from childguard.agebands import AgeBand
    from childguard.detectors import DetectionInput
    from childguard.detectors.classifier import ClassifierDetector
    from childguard.normalize import normalize

    rows = [r for r in build(None) if r["split"] == "train"][::6]
    w, b = train(rows, dim_bits=12, labels=("sexual_minors",), n_jobs=1)
    from childguard.linear_model import LinearModel

    hair_trigger = ClassifierDetector(LinearModel(("sexual_minors",), w, b + 30.0, 12, {}))
    for text, found in (("12", False), ("😊😊", False), ("14?!", False), ("im 12", True)):
        item = DetectionInput(text, normalize(text), "en", AgeBand.TRANSITION, "child")
        assert bool(hair_trigger.detect(item)) is found, text


def test_a_corrupt_model_folder_is_a_typed_error_that_says_what_to_do(tmp_path: Path) -> None:
    from childguard.errors import ModelError

    (tmp_path / "classifier.json").write_text('{"labels": ["self_harm"], "dim_bits": 12}', encoding="utf-8")
    (tmp_path / "classifier.npz").write_bytes(b"not a numpy archive")
    with pytest.raises(ModelError, match=r"could not be read.*make train"):
        Guard(Settings(classifier_model_dir=tmp_path, detectors=["classifier"]))
