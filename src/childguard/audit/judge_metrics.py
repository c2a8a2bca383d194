"""Agreement of a judge with labelled answers: accuracy and Cohen's kappa overall and per label (one
label against the rest), the numbers `childguard audit-judges` and the answer-kind trainer report.
Kappa discounts the agreement chance alone would give, which plain accuracy hides when one label
dominates (most answers to harmful prompts are not harmful, so "never harmful" is often right)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from typing import Any


def cohen_kappa(gold: Sequence[Hashable], pred: Sequence[Hashable]) -> float | None:
    n = len(gold)
    if n == 0:
        return None
    po = sum(g == p for g, p in zip(gold, pred, strict=True)) / n
    cg, cp = Counter(gold), Counter(pred)
    pe = sum(cg[k] * cp[k] for k in cg) / (n * n)
    return round((po - pe) / (1 - pe), 4) if pe < 1 else (1.0 if po == 1 else 0.0)


def agreement(gold: Sequence[Hashable], pred: Sequence[Hashable]) -> dict[str, Any]:
    n = len(gold)
    acc = round(sum(g == p for g, p in zip(gold, pred, strict=True)) / n, 4) if n else None
    per_label = {}
    for label in sorted({*gold, *pred}, key=str):
        g = [x == label for x in gold]
        p = [x == label for x in pred]
        hits = sum(a and b for a, b in zip(g, p, strict=True))
        same = sum(a == b for a, b in zip(g, p, strict=True))
        per_label[str(label)] = {"n": sum(g), "predicted": sum(p),
                                 "accuracy": round(same / n, 4) if n else None,
                                 "recall": round(hits / sum(g), 4) if sum(g) else None,
                                 "precision": round(hits / sum(p), 4) if sum(p) else None,
                                 "kappa": cohen_kappa(g, p)}
    return {"n": n, "accuracy": acc, "kappa": cohen_kappa(gold, pred), "per_label": per_label}
