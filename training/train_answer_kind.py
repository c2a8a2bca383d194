"""Train the audit's answer-kind model (childguard.audit.answer_kind) on the labelled answers in
training/answers/<lang>.jsonl (compose them first: python -m training.answers.compose).

A multinomial logistic regression over the hashed n-gram features of the answer plus the dense
request/answer features; seeded and deterministic, about a minute on two busy cores. The held-out
split (per kind-bearing part, see training/answers/compose.py) is never trained on; its accuracy and
Cohen's kappa per language are stored in the model's JSON, and `childguard audit-judges` measures
every judge on the same rows. Usage: python -m training.train_answer_kind"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from childguard.audit.answer_kind import DIM_BITS, KINDS, MODEL_NAME, AnswerKindModel, features, n_features
from childguard.audit.judge_metrics import agreement

ANSWERS = Path(__file__).parent / "answers"


def load_answers(folder: Path = ANSWERS) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.jsonl")):
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows


def answers_digest(rows: list[dict[str, Any]]) -> str:
    """Which labelled answers a model was trained and measured on: a test compares it with the files."""
    blob = json.dumps([[r["id"], r["request"], r["answer"], r["kind"], r["split"]] for r in rows], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def matrix(rows: list[dict[str, Any]], dim_bits: int) -> sp.csr_matrix:
    indptr, indices, values = [0], [], []
    for r in rows:
        idx, val = features(r["request"], r["answer"], dim_bits)
        indices.append(idx)
        values.append(val)
        indptr.append(indptr[-1] + idx.size)
    x = sp.csr_matrix((np.concatenate(values), np.concatenate(indices), np.asarray(indptr)),
                      shape=(len(rows), n_features(dim_bits)))
    x.sum_duplicates()
    return x


def train(rows: list[dict[str, Any]], dim_bits: int = DIM_BITS, c: float = 20.0,
          seed: int = 13) -> tuple[np.ndarray, np.ndarray]:
    x = matrix(rows, dim_bits)
    y = np.asarray([KINDS.index(r["kind"]) for r in rows])
    clf = LogisticRegression(C=c, max_iter=2000, random_state=seed, class_weight="balanced")
    clf.fit(x, y)
    weights = np.zeros((n_features(dim_bits), len(KINDS)), dtype=np.float32)
    bias = np.zeros(len(KINDS), dtype=np.float32)
    for j, cls in enumerate(clf.classes_):
        weights[:, cls] = clf.coef_[j]
        bias[cls] = clf.intercept_[j]
    return weights, bias


def evaluate(model: AnswerKindModel, rows: list[dict[str, Any]]) -> dict[str, Any]:
    pred = [model.predict(r["request"], r["answer"]).kind for r in rows]
    gold = [r["kind"] for r in rows]
    out: dict[str, Any] = {"all": agreement(gold, pred)}
    for lang in sorted({r["lang"] for r in rows}):
        keep = [i for i, r in enumerate(rows) if r["lang"] == lang]
        out[lang] = agreement([gold[i] for i in keep], [pred[i] for i in keep])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--answers", type=Path, default=ANSWERS)
    ap.add_argument("--out", type=Path, default=Path("src/childguard/models"))
    ap.add_argument("--dim-bits", type=int, default=DIM_BITS)
    ap.add_argument("--c", type=float, default=20.0)
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args()
    t0 = time.perf_counter()
    rows = load_answers(args.answers)
    train_rows = [r for r in rows if r["split"] == "train"]
    test_rows = [r for r in rows if r["split"] == "test"]
    print(f"{len(train_rows)} training answers, {len(test_rows)} held out, {len({r['lang'] for r in rows})} languages")
    weights, bias = train(train_rows, args.dim_bits, args.c, args.seed)
    shipped = weights.astype(np.float16)
    model = AnswerKindModel(shipped.astype(np.float32), bias, args.dim_bits)
    metrics = evaluate(model, test_rows)
    digest = hashlib.sha256(shipped.tobytes() + bias.tobytes()).hexdigest()[:16]
    args.out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out / f"{MODEL_NAME}.npz", weights=shipped, bias=bias)
    meta = {"kinds": list(KINDS), "dim_bits": args.dim_bits, "c": args.c, "seed": args.seed,
            "features": "answer char 2-5 + word 1-2 grams hashed (childguard.features), request overlap, wording "
                        "regexes, length (childguard.audit.answer_kind.features)",
            "train_answers": len(train_rows), "heldout_answers": len(test_rows),
            "languages": sorted({r["lang"] for r in rows}), "weights_sha256_16": digest,
            "answers_sha256_16": answers_digest(rows),
            "heldout": metrics}
    (args.out / f"{MODEL_NAME}.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n",
                                                 encoding="utf-8")
    for lang, m in metrics.items():
        print(f"{lang:4s} accuracy {m['accuracy']:.3f} kappa {m['kappa']:.3f} n={m['n']}")
    print(f"weights digest {digest}; {time.perf_counter() - t0:.1f}s")


if __name__ == "__main__":
    main()
