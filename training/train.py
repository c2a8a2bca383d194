"""Train the embedded classifier: hashed char/word n-grams -> one logistic head per label.

Reproducible: the data order, the split and the solver are seeded, so the same inputs give the
same weights (the test suite checks this on a small sample). Usage: `make train`."""

from __future__ import annotations

import argparse
import hashlib
import json
import time
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.linear_model import LogisticRegression

from childguard.detectors.classifier import GATE_LABEL, capped, raw_scores
from childguard.features import DEFAULT_DIM_BITS, featurize
from childguard.normalize import normalize
from childguard.taxonomy import CATEGORY_IDS, TOPIC_IDS, get_taxonomy

from .build_dataset import build
from .sources_v2 import _norm_key, build_v2, eval_texts
from .sources_v3 import v3_rows

LABELS: tuple[str, ...] = CATEGORY_IDS + tuple(f"topic:{t}" for t in TOPIC_IDS)
# One class-balanced "needs intervention" head decides; the category heads only name the harm. At run time a
# category's score is capped by the gate's (childguard.detectors.classifier), so a topic word alone, which
# the category head may still score high, does not stop a message the gate reads as benign.
GATE = GATE_LABEL
MODEL_LABELS: tuple[str, ...] = (*LABELS, GATE)
OWN_SOURCES = {"seeds", "templates", "hard"}
TRAIN_CHARS = 1200  # long jailbreak prompts: their opening carries the attack


def matrix(texts: list[str], dim_bits: int) -> sp.csr_matrix:
    indptr = [0]
    indices: list[np.ndarray] = []
    data: list[np.ndarray] = []
    for text in texts:
        idx = featurize(normalize(text[:TRAIN_CHARS]).text, dim_bits)
        indices.append(idx)
        data.append(np.full(idx.size, 1.0 / np.sqrt(max(idx.size, 1)), dtype=np.float32))
        indptr.append(indptr[-1] + idx.size)
    x = sp.csr_matrix(
        (np.concatenate(data), np.concatenate(indices), np.asarray(indptr)),
        shape=(len(texts), 1 << dim_bits),
    )
    x.sum_duplicates()
    return x


def _fit_head(x: sp.csr_matrix, y: np.ndarray, c: float, seed: int, balanced: bool = False) -> tuple[np.ndarray, float]:
    pos = int(y.sum())
    if pos == 0:
        return np.zeros(x.shape[1], dtype=np.float32), -8.0
    # category heads: up-weight rare positives by a quarter of the imbalance (full balancing over-flags);
    # the gate is class-balanced, its operating point is then chosen on a benign budget
    ratio = (len(y) - pos) / pos
    w_pos = float(np.clip(ratio, 0.2, 40.0)) if balanced else float(np.clip(ratio / 4.0, 1.0, 40.0))
    clf = LogisticRegression(C=c, solver="liblinear", dual=True, class_weight={0: 1.0, 1: w_pos},
                             random_state=seed, max_iter=300)
    clf.fit(x, y)
    return clf.coef_[0].astype(np.float32), float(clf.intercept_[0])


def train(rows: list[dict[str, Any]], dim_bits: int = DEFAULT_DIM_BITS, c: float = 4.0,
          seed: int = 13, labels: tuple[str, ...] = LABELS, n_jobs: int = 2) -> tuple[np.ndarray, np.ndarray]:
    x = matrix([r["text"] for r in rows], dim_bits)
    targets = [target(rows, label) for label in labels]
    fitted = Parallel(n_jobs=n_jobs)(delayed(_fit_head)(x, y, c, seed, label == GATE)
                                     for label, y in zip(labels, targets, strict=True))
    weights = np.stack([w for w, _ in fitted], axis=1).astype(np.float32)
    bias = np.asarray([b for _, b in fitted], dtype=np.float32)
    return weights, bias


def target(rows: list[dict[str, Any]], label: str) -> np.ndarray:
    if label == GATE:
        return np.fromiter((any(not lab.startswith("topic:") for lab in r["labels"]) for r in rows), dtype=np.int8,
                           count=len(rows))
    return np.fromiter((label in r["labels"] for r in rows), dtype=np.int8, count=len(rows))


def _logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


# Over-blocking is a defect (4d): the 21 harm heads share a budget of 3% false flags on children's
# benign messages; each head may flag at most this share of them on validation data.
BENIGN_FLAG_BUDGET_PER_HEAD = 0.10 / len(CATEGORY_IDS)  # heads overlap: the union lands near 3%


def best_threshold(scores: np.ndarray, positive: np.ndarray, own_benign: np.ndarray, grid: Iterable[float],
                   budget: float | None, fallback: float) -> float:
    """The threshold on `grid` with the best F1 (the first of equals) among those that flag at most `budget`
    of the project's own benign rows; `fallback` when none keeps the budget. Topics (`budget=None`) and a
    split without own benign rows are not budgeted. Shared by both trainers so they calibrate alike."""
    budgeted = budget is not None and bool(own_benign.any())
    best_t, best_f1 = fallback, -1.0
    for t in grid:
        pred = scores >= t
        if budgeted and (pred & own_benign).sum() / own_benign.sum() > budget:
            continue
        tp = int((pred & positive).sum())
        denom = int(pred.sum()) + int(positive.sum())
        f1 = 2 * tp / denom if denom else 0.0
        if f1 > best_f1 + 1e-9:
            best_t, best_f1 = float(t), f1
    return best_t


def calibrate(rows: list[dict[str, Any]], weights: np.ndarray, bias: np.ndarray, dim_bits: int,
              labels: tuple[str, ...] = LABELS) -> np.ndarray:
    """Per-head bias shift so that 0.5 sits at the threshold with the best F1 on validation rows among
    thresholds that keep the head within its false-flag budget on the project's benign messages.
    Thresholds are kept in [0.2, 0.9] so no head becomes hair-trigger or mute."""
    x = matrix([r["text"] for r in rows], dim_bits)
    probs = 1 / (1 + np.exp(-(x @ weights + bias)))
    own_benign = np.fromiter((not r["labels"] and r["source"] in OWN_SOURCES for r in rows), dtype=bool,
                             count=len(rows))
    shifts = np.zeros(len(labels), dtype=np.float32)
    for j, label in enumerate(labels):
        y = np.fromiter((label in r["labels"] for r in rows), dtype=bool, count=len(rows))
        if y.sum() < 3:
            continue
        budget = None if label.startswith("topic:") else BENIGN_FLAG_BUDGET_PER_HEAD
        shifts[j] = -_logit(best_threshold(probs[:, j], y, own_benign, np.arange(0.2, 0.91, 0.05), budget, 0.9))
    return shifts


def prf(pred: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Precision, recall, F1 and support of one head's predictions, as the model metadata reports them."""
    tp, fp, fn = int((pred & y).sum()), int((pred & ~y).sum()), int((~pred & y).sum())
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(2 * p * r / (p + r), 3) if p + r else 0.0,
            "support": int(y.sum())}


def head_metrics(rows: list[dict[str, Any]], weights: np.ndarray, bias: np.ndarray, dim_bits: int,
                 labels: tuple[str, ...] = LABELS) -> dict[str, dict[str, float]]:
    x = matrix([r["text"] for r in rows], dim_bits)
    probs = 1 / (1 + np.exp(-(x @ weights + bias)))
    out = {}
    for j, label in enumerate(labels):
        y = np.fromiter((label in r["labels"] for r in rows), dtype=bool, count=len(rows))
        out[label] = prf(probs[:, j] >= 0.5, y)
    return out


def save(out_dir: Path, weights: np.ndarray, bias: np.ndarray, meta: dict[str, Any], name: str = "classifier") -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out_dir / f"{name}.npz", weights=weights.astype(np.float16), bias=bias)
    (out_dir / f"{name}.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")


def harm_label(r: dict[str, Any]) -> str:
    """A row's label in `childguard eval` files: its first category, or 'benign' (topics are benign)."""
    return next((lab for lab in r["labels"] if not lab.startswith("topic:")), "benign")


def write_heldout(path: Path, rows: list[dict[str, Any]]) -> None:
    """Held-out rows in `childguard eval` format: all of them, the project's own, and the public ones."""
    path.parent.mkdir(parents=True, exist_ok=True)
    files = {
        path: lambda r: True,
        path.with_name(path.stem + "_own.jsonl"): lambda r: r["source"] in OWN_SOURCES,
        path.with_name(path.stem + "_public.jsonl"): lambda r: r["source"] not in OWN_SOURCES,
    }
    for target, keep in files.items():
        with target.open("w", encoding="utf-8") as fh:
            for r in rows:
                if not keep(r):
                    continue
                topic = next((lab[6:] for lab in r["labels"] if lab.startswith("topic:")), None)
                fh.write(json.dumps({"text": r["text"], "label": harm_label(r), "lang": r["lang"],
                                     "source": r["source"], "topic": topic, "identity": bool(r.get("identity"))},
                                    ensure_ascii=False) + "\n")


# What the rule may stop of each slice of varied benign text: the benign corpora of every length and the
# project's own benign rows 2 %; the contrastive twins, written to look as risky as their harmful pair
# (XSTest's kinds), 5 %; bare numbers, "ok" and emojis never.
SLICE_BUDGETS = {"corpora": 0.02, "twins": 0.05, "own": 0.02, "short_replies": 0.0}
BENIGN_SLICES = tuple(SLICE_BUDGETS)


def benign_slice(r: dict[str, Any]) -> str | None:
    """Which kind of benign text a row is, for the gate's budget; None for harmful rows and noisy public
    benign rows (benign tweets of hate sets), which are scored but not budgeted."""
    if any(not lab.startswith("topic:") for lab in r["labels"]):
        return None
    if r.get("kind") == "short_reply":
        return "short_replies"
    if r["source"].startswith("benign:"):
        return "corpora"
    if r["source"] == "contrastive":
        return "twins"
    if r["source"] in OWN_SOURCES:
        return "own"
    return None


def detector_probs(rows: list[dict[str, Any]], weights: np.ndarray, bias: np.ndarray, dim_bits: int,
                   labels: tuple[str, ...]) -> np.ndarray:
    """Raw head probabilities as the detector computes them (windows, sentences, payloads), before gating."""
    from childguard.linear_model import LinearModel

    model = LinearModel(labels, weights.astype(np.float32), bias.astype(np.float32), dim_bits, {})
    return np.stack([raw_scores(model, r["text"], normalize(r["text"]).text) for r in rows])


SOLO_BENIGN_BUDGET = 0.002  # a category that speaks without the gate may stop this share of benign rows
SOLO_MIN_SEVERITY = 4  # only harms where a miss leaves a child in danger speak without the gate


def _budgeted(stopped: np.ndarray, slices: np.ndarray) -> bool:
    for name in BENIGN_SLICES:
        m = slices == name
        if m.any() and stopped[m].mean() > SLICE_BUDGETS[name]:
            return False
    return True


def calibrate_gated(rows: list[dict[str, Any]], probs: np.ndarray, labels: tuple[str, ...] = MODEL_LABELS
                    ) -> tuple[np.ndarray, dict[str, float], dict[str, Any]]:
    """Operating points, as bias shifts that put 0.5 at each head's threshold, and each category's solo
    threshold (on the shifted scale). A category's own threshold is its best F1; above a stricter solo
    threshold (at most SOLO_BENIGN_BUDGET of the benign rows) it speaks without the gate, so a clear "how to
    hang myself" is never silenced by a weak gate. The gate's threshold is the best F1 of the whole rule
    (gate and category, or a solo category) among those that keep every benign slice within its budget
    (SLICE_BUDGETS): budgets are measured on what is stopped, as at run time."""
    gate_j = labels.index(GATE)
    harmful = target(rows, GATE).astype(bool)
    slices = np.asarray([benign_slice(r) or "" for r in rows])
    benign = np.isin(slices, BENIGN_SLICES)
    short = slices == "short_replies"
    severity = {c: t.severity for c, t in get_taxonomy().categories.items()}
    grid_c = np.arange(0.2, 0.96, 0.05)
    cat_t: dict[str, float] = {}
    solo_t: dict[str, float] = {}
    shifts = np.zeros(len(labels), dtype=np.float32)
    for j, label in enumerate(labels):
        if label == GATE:
            continue
        y = target(rows, label).astype(bool)
        if y.sum() < 3:
            continue
        cat_t[label] = best_threshold(probs[:, j], y, benign, grid_c, None, 0.9)
        if not label.startswith("topic:") and severity.get(label, 0) >= SOLO_MIN_SEVERITY:
            t_solo = best_threshold(probs[:, j], y, benign, np.arange(0.5, 0.991, 0.01), SOLO_BENIGN_BUDGET, 2.0)
            if short.any():  # never on a bare number or an "ok"
                t_solo = max(t_solo, float(probs[short, j].max()) + 0.01)
            solo_t[label] = t_solo
        shifts[j] = -_logit(cat_t[label])
    cats = [j for j, label in enumerate(labels) if label in cat_t and not label.startswith("topic:")]
    over_cat = np.zeros(len(rows), dtype=bool)
    over_solo = np.zeros(len(rows), dtype=bool)
    for j in cats:
        over_cat |= probs[:, j] >= cat_t[labels[j]]
        over_solo |= probs[:, j] >= solo_t.get(labels[j], 2.0)
    best_t, best_f1, best_stop = 0.99, -1.0, over_solo
    for t in np.round(np.arange(0.05, 0.991, 0.01), 2):
        stopped = (over_cat & (probs[:, gate_j] >= t)) | over_solo
        if not _budgeted(stopped, slices):
            continue
        tp = int((stopped & harmful).sum())
        f1 = 2 * tp / (int(stopped.sum()) + int(harmful.sum()))
        if f1 > best_f1 + 1e-9:
            best_t, best_f1, best_stop = float(t), f1, stopped
    shifts[gate_j] = -_logit(best_t)
    # solo thresholds on the shifted scale, where the category's own threshold is 0.5
    solo = {label: round(float(1 / (1 + np.exp(-(_logit(min(t, 0.999)) - _logit(cat_t[label]))))), 4)
            for label, t in solo_t.items() if t <= 1.0}
    report = {"threshold": best_t, "val_f1": round(best_f1, 3),
              "val_recall": round(float(best_stop[harmful].mean()), 3),
              "val_benign_stopped": {name: round(float(best_stop[slices == name].mean()), 4)
                                     for name in BENIGN_SLICES if (slices == name).any()}}
    return shifts, solo, report


def gated_metrics(rows: list[dict[str, Any]], probs: np.ndarray, solo: dict[str, float],
                  labels: tuple[str, ...] = MODEL_LABELS) -> dict[str, Any]:
    """Held-out figures of the shipped rule (calibrated probabilities): what it stops per benign slice and
    per language, and each category as the detector reports it."""
    final = capped(probs, labels, solo)
    names = [label for label in labels if label != GATE]
    harm_cols = [k for k, label in enumerate(names) if not label.startswith("topic:")]
    stopped = (final[:, harm_cols] >= 0.5).any(axis=1)
    harmful = target(rows, GATE).astype(bool)
    slices = np.asarray([benign_slice(r) or "" for r in rows])
    langs = np.asarray([r["lang"] for r in rows])
    by_lang = {}
    for lang in sorted(set(langs.tolist())):
        m = langs == lang
        if (m & harmful).sum() >= 20:
            by_lang[lang] = {"harmful_recall": round(float(stopped[m & harmful].mean()), 3),
                             "benign_stopped": round(float(stopped[m & ~harmful].mean()), 4)
                             if (m & ~harmful).any() else None, "n": int(m.sum())}
    out: dict[str, Any] = {
        "gate": {"harmful_recall": round(float(stopped[harmful].mean()), 3),
                 "benign_stopped": {name: round(float(stopped[slices == name].mean()), 4)
                                    for name in BENIGN_SLICES if (slices == name).any()},
                 "by_language": by_lang},
        "heads": {},
    }
    for k, label in enumerate(names):
        y = target(rows, label).astype(bool)
        out["heads"][label] = prf(final[:, k] >= 0.5, y)
    return out


CHILD_QUESTION_KINDS = {"child_question", "definition", "support_seeking"}
HELDOUT_SETS: dict[str, Any] = {
    "twins": lambda r: r["source"] == "contrastive" and r.get("twin_id") is not None,
    "polyguard_social": lambda r: r["source"] == "polyguard_social",
    "rtp_lx": lambda r: r["source"] == "rtp_lx",
    "children_questions": lambda r: r["source"] == "contrastive" and r.get("kind") in CHILD_QUESTION_KINDS,
    "short_replies": lambda r: r.get("kind") == "short_reply",
}


def write_heldout_sets(folder: Path, rows: list[dict[str, Any]]) -> None:
    """One file per held-out set for `childguard eval-public --heldout-dir`: each row keeps its role and its
    child's age (children's questions are asked at age 10, the issue's over-blocking check)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, keep in HELDOUT_SETS.items():
        with (folder / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for r in rows:
                if not keep(r):
                    continue
                age = 10 if name == "children_questions" else r.get("age", 15)
                fh.write(json.dumps({"text": r["text"], "label": harm_label(r), "lang": r["lang"],
                                     "source": r["source"], "role": r.get("role", "child"),
                                     "age": age if age is not None else 18}, ensure_ascii=False) + "\n")


def dedupe(rows: list[dict[str, Any]], banned: set[str]) -> list[dict[str, Any]]:
    """One row per text (the first source wins), and nothing that equals a public evaluation row."""
    seen: set[str] = set()
    out = []
    for r in rows:
        key = _norm_key(r["text"])
        if not key or key in seen or key in banned:
            continue
        seen.add(key)
        out.append(r)
    return out


def main_v3(args: argparse.Namespace) -> None:
    """Data v3 (v1 + v2 sources + contrastive pairs, polyguard_social, rtp_lx) and the gated heads: one fit
    on 80 % of the training groups, operating points on the other 20 % (twins included)."""
    t0 = time.perf_counter()
    rows = build(args.shared, seed=args.seed, reviewed=args.reviewed)
    rows += build_v2(args.shared, args.eval_dir, args.seed) + v3_rows(args.shared)
    rows = dedupe(rows, eval_texts(args.eval_dir))
    train_rows = [r for r in rows if r["split"] == "train"]
    test_rows = [r for r in rows if r["split"] == "test"]
    fit_rows = [r for r in train_rows if zlib.crc32(("val" + r["group"]).encode()) % 5 != 0]
    val_rows = [r for r in train_rows if zlib.crc32(("val" + r["group"]).encode()) % 5 == 0]
    print(f"{len(fit_rows)} fit rows, {len(val_rows)} validation rows, {len(test_rows)} held-out rows", flush=True)
    weights, bias = train(fit_rows, args.dim_bits, c=args.c, seed=args.seed, labels=MODEL_LABELS)
    print(f"fitted in {time.perf_counter() - t0:.0f}s", flush=True)
    shipped = weights.astype(np.float16).astype(np.float32)
    shifts, solo, gate_report = calibrate_gated(val_rows, detector_probs(val_rows, shipped, bias, args.dim_bits,
                                                                         MODEL_LABELS))
    bias = (bias + shifts).astype(np.float32)
    metrics = gated_metrics(test_rows, detector_probs(test_rows, shipped, bias, args.dim_bits, MODEL_LABELS), solo)
    digest = hashlib.sha256(shipped.tobytes() + bias.tobytes()).hexdigest()[:16]
    meta = {
        "labels": list(MODEL_LABELS), "gate": GATE, "data": "v3", "dim_bits": args.dim_bits, "seed": args.seed,
        "features": "char 2-5 grams + word 1-2 grams, hashed (childguard.features)",
        "train_rows": len(fit_rows), "validation_rows": len(val_rows), "heldout_rows": len(test_rows),
        "sources": sorted({r["source"] for r in rows}), "languages": sorted({r["lang"] for r in rows}),
        "weights_sha256_16": digest,
        "calibrated_thresholds": {lab: round(float(1 / (1 + np.exp(s))), 2)
                                  for lab, s in zip(MODEL_LABELS, shifts, strict=True)},
        "solo_thresholds": solo,
        "validation_gate": gate_report,
        "heldout_gate": metrics["gate"],
        "heldout_head_metrics": metrics["heads"],
    }
    save(args.out, weights, bias, meta)
    write_heldout(args.heldout, test_rows)
    write_heldout_sets(args.heldout.parent / "heldout_sets", test_rows)
    print(json.dumps({"validation_gate": gate_report, "heldout_gate": metrics["gate"]}, indent=1))
    for label, m in metrics["heads"].items():
        print(f"{label:28s} P={m['precision']:.2f} R={m['recall']:.2f} F1={m['f1']:.2f} n={m['support']}")
    print(f"weights digest {digest}; total {time.perf_counter() - t0:.1f}s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shared", type=Path, default=Path("../shared/data"))
    ap.add_argument("--out", type=Path, default=Path("src/childguard/models"))
    ap.add_argument("--heldout", type=Path, default=Path("build/heldout.jsonl"))
    ap.add_argument("--dim-bits", type=int, default=DEFAULT_DIM_BITS)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--reviewed", type=Path, action="append", default=[],
                    help="false alarms exported from the moderators' console (JSONL), as benign rows; repeatable")
    ap.add_argument("--data", choices=["v1", "v3"], default="v1",
                    help="v1: the shipped model's recipe; v3: every source plus the contrastive pairs, with the "
                    "gate head (the measured candidate, not shipped: docs/benchmarks.md)")
    ap.add_argument("--eval-dir", type=Path, default=Path("../shared/eval"),
                    help="public evaluation sets: never trained on; rows equal to theirs are dropped")
    ap.add_argument("--c", type=float, default=4.0, help="inverse regularisation of every head")
    args = ap.parse_args()
    if args.data == "v3":
        main_v3(args)
        return

    t0 = time.perf_counter()
    rows = build(args.shared, seed=args.seed, reviewed=args.reviewed)
    train_rows = [r for r in rows if r["split"] == "train"]
    test_rows = [r for r in rows if r["split"] == "test"]
    print(f"{len(train_rows)} training rows, {len(test_rows)} held-out rows")
    # 1) fit on 80% of the training groups, choose each head's operating point on the other 20%
    fit_rows = [r for r in train_rows if zlib.crc32(("val" + r["group"]).encode()) % 5 != 0]
    val_rows = [r for r in train_rows if zlib.crc32(("val" + r["group"]).encode()) % 5 == 0]
    w_fit, b_fit = train(fit_rows, args.dim_bits, seed=args.seed)
    shifts = calibrate(val_rows, w_fit, b_fit, args.dim_bits)
    # 2) refit on all training rows and apply the chosen operating points
    weights, bias = train(train_rows, args.dim_bits, seed=args.seed)
    bias = (bias + shifts).astype(np.float32)
    print(f"trained in {time.perf_counter() - t0:.1f}s")
    # metrics on float16-rounded weights: what ships is what is measured
    shipped = weights.astype(np.float16).astype(np.float32)
    metrics = head_metrics(test_rows, shipped, bias, args.dim_bits)
    digest = hashlib.sha256(shipped.tobytes() + bias.tobytes()).hexdigest()[:16]
    meta = {
        "labels": list(LABELS),
        "dim_bits": args.dim_bits,
        "seed": args.seed,
        "features": "char 2-5 grams + word 1-2 grams, hashed (childguard.features)",
        "train_rows": len(train_rows),
        "heldout_rows": len(test_rows),
        "sources": sorted({r["source"] for r in rows}),
        "languages": sorted({r["lang"] for r in rows}),
        "weights_sha256_16": digest,
        "calibrated_thresholds": {
            lab: round(float(1 / (1 + np.exp(s))), 2) for lab, s in zip(LABELS, shifts, strict=True)
        },
        "heldout_head_metrics": metrics,
    }
    save(args.out, weights, bias, meta)
    write_heldout(args.heldout, test_rows)
    for label, m in metrics.items():
        print(f"{label:28s} P={m['precision']:.2f} R={m['recall']:.2f} F1={m['f1']:.2f} n={m['support']}")
    print(f"weights digest {digest}; total {time.perf_counter() - t0:.1f}s")


if __name__ == "__main__":
    main()
