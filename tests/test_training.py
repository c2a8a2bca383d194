"""Training is reproducible, and the shipped model matches the code that trains it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from training.build_dataset import augment, build
from training.train import LABELS, save, train

from childguard.linear_model import LinearModel, default_model


@pytest.fixture(scope="module")
def seed_rows() -> list[dict]:
    rows = [r for r in build(None) if r["split"] == "train"]
    assert len(rows) > 1000
    return rows[::4]


def test_same_seed_same_weights(seed_rows: list[dict]) -> None:
    labels = ("self_harm", "topic:mental_wellbeing", "grooming")
    w1, b1 = train(seed_rows, dim_bits=12, labels=labels, n_jobs=1)
    w2, b2 = train(seed_rows, dim_bits=12, labels=labels, n_jobs=1)
    assert hashlib.sha256(w1.tobytes()).digest() == hashlib.sha256(w2.tobytes()).digest()
    assert np.array_equal(b1, b2)
    assert np.abs(w1).sum() > 0


def test_saved_model_round_trips(tmp_path: Path, seed_rows: list[dict]) -> None:
    labels = ("self_harm", "grooming")
    w, b = train(seed_rows, dim_bits=12, labels=labels, n_jobs=1)
    save(tmp_path, w, b, {"labels": list(labels), "dim_bits": 12})
    model = LinearModel.load(tmp_path)
    scores = model.score("i want to kill myself")
    assert scores["self_harm"] > scores["grooming"]


def test_split_is_by_seed_so_nothing_leaks() -> None:
    rows = build(None)
    split_of: dict[str, set[str]] = {}
    for r in rows:
        split_of.setdefault(r["group"], set()).add(r["split"])
    assert all(len(s) == 1 for s in split_of.values())
    assert {"train", "test"} == {next(iter(s)) for s in split_of.values()}


def test_augmentation_is_deterministic() -> None:
    import random

    a = augment("where do babies come from?", "en", random.Random(1))
    b = augment("where do babies come from?", "en", random.Random(1))
    assert a == b and len(a) >= 4 and a[0] == "where do babies come from?"


def test_shipped_model_matches_training_labels_and_size() -> None:
    model = default_model()
    assert model.labels == LABELS
    assert model.weights.shape == (1 << model.dim_bits, len(LABELS))
    size = (Path(__file__).parents[1] / "src/childguard/models/classifier.npz").stat().st_size
    assert size <= 50 * 1024 * 1024


def test_console_false_alarms_become_benign_training_rows(tmp_path: Path) -> None:
    from training.build_dataset import reviewed_rows

    export = tmp_path / "false_alarms.jsonl"
    export.write_text(
        '{"text": "we killed it at the school play", "label": "benign", "flagged_as": ["violence"], '
        '"lang": "en", "age_band": "10-12", "source": "moderation", "case_id": 7}\n'
        "not json\n"
        '{"text": "", "label": "benign", "case_id": 8}\n', encoding="utf-8")
    rows = reviewed_rows([export])
    assert len(rows) == 1 and rows[0]["labels"] == [] and rows[0]["lang"] == "en"
    assert rows[0]["source"] == "moderator_false_alarms" and rows[0]["group"] == "reviewed:7"
    assert any(r["text"] == "we killed it at the school play" for r in build(None, reviewed=[export]))
