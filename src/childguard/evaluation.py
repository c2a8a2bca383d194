"""Scores a labelled JSON Lines file through the whole decision (detectors + policy), the way a
product would see it: precision, recall and F1 per category, the over-flag rate on benign lines
(over-blocking is a defect too, 4d) and the same per language (7d)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .decision import Decision
from .errors import InvalidInputError
from .guard import CheckRequest, Guard
from .taxonomy import CATEGORY_IDS

BENIGN = "benign"


@dataclass(frozen=True, slots=True)
class LabelledLine:
    text: str
    label: str
    lang: str | None
    age: Any
    line: int = 0  # 1-based line of the input file, for the bad-line report


def parse_labelled(lines: Iterable[str]) -> tuple[list[LabelledLine], list[dict[str, Any]]]:
    rows: list[LabelledLine] = []
    errors: list[dict[str, Any]] = []
    valid = {*CATEGORY_IDS, BENIGN}
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
                raise InvalidInputError("each line needs a JSON object with a string 'text'")
            label = obj.get("label")
            if label not in valid:
                raise InvalidInputError(f"label {label!r} is not a category id or 'benign'")
            rows.append(LabelledLine(obj["text"], label, obj.get("lang"), obj.get("age"), n))
        except (json.JSONDecodeError, InvalidInputError) as exc:
            errors.append({"line": n, "error": str(exc)})
    return rows, errors


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0}


def _summarise(pairs: list[tuple[LabelledLine, Decision]]) -> dict[str, Any]:
    counts: dict[str, dict[str, int]] = {c: {"tp": 0, "fp": 0, "fn": 0, "support": 0} for c in CATEGORY_IDS}
    benign_n = benign_flagged = benign_refused = 0
    for line, decision in pairs:
        flagged = set(decision.flagged)
        if line.label == BENIGN:
            benign_n += 1
            benign_flagged += bool(flagged)
            benign_refused += decision.action.intervenes
        else:
            counts[line.label]["support"] += 1
            if line.label in flagged:
                counts[line.label]["tp"] += 1
            else:
                counts[line.label]["fn"] += 1
        for c in flagged:
            if c != line.label:
                counts[c]["fp"] += 1
    categories = {c: {**_prf(v["tp"], v["fp"], v["fn"]), "support": v["support"], "false_positives": v["fp"]}
                  for c, v in counts.items() if v["support"] or v["fp"]}
    supported = [m["f1"] for m in categories.values() if m["support"]]
    harmful = sum(v["support"] for v in counts.values())
    detected = sum(v["tp"] for v in counts.values())
    return {
        "lines": len(pairs),
        "macro_f1": round(sum(supported) / len(supported), 4) if supported else None,
        "harmful_recall": round(detected / harmful, 4) if harmful else None,
        "benign": {
            "lines": benign_n,
            "overflag_rate": round(benign_flagged / benign_n, 4) if benign_n else None,
            "refusal_rate": round(benign_refused / benign_n, 4) if benign_n else None,
        },
        "categories": categories,
    }


def evaluate(guard: Guard, rows: list[LabelledLine], workers: int = 1) -> dict[str, Any]:
    requests = [CheckRequest(r.text, age=r.age, lang=r.lang) for r in rows]
    results = guard.check_many(requests, workers=workers)
    pairs: list[tuple[LabelledLine, Decision]] = []
    failed: list[dict[str, Any]] = []
    for row, result in zip(rows, results, strict=True):
        if isinstance(result, Decision):
            pairs.append((row, result))
        else:
            failed.append({"line": row.line, "error": str(result)})
    report = _summarise(pairs)
    report["failed_lines"] = len(failed)
    report["failed"] = failed
    by_lang: dict[str, list[tuple[LabelledLine, Decision]]] = defaultdict(list)
    for row, decision in pairs:
        by_lang[row.lang or decision.lang].append((row, decision))
    report["languages"] = {}
    for lang, subset in sorted(by_lang.items()):
        summary = _summarise(subset)
        report["languages"][lang] = {k: summary[k] for k in ("lines", "macro_f1", "harmful_recall", "benign")}
    return report


def format_report(report: dict[str, Any]) -> str:
    def pct(v: float | None) -> str:
        return "   n/a" if v is None else f"{100 * v:5.1f}%"

    out = [f"{'category':26s} {'P':>6s} {'R':>6s} {'F1':>6s} {'n':>6s} {'FP':>5s}"]
    for cat, m in sorted(report["categories"].items()):
        if m["support"]:
            out.append(f"{cat:26s} {pct(m['precision'])} {pct(m['recall'])} {pct(m['f1'])} {m['support']:6d} "
                       f"{m['false_positives']:5d}")
        else:
            out.append(f"{cat:26s} {'':6s} {'':6s} {'':6s} {0:6d} {m['false_positives']:5d}  (no such lines)")
    b = report["benign"]
    out.append("")
    out.append(f"macro F1 {pct(report['macro_f1'])}   harmful recall {pct(report['harmful_recall'])}   "
               f"benign over-flag {pct(b['overflag_rate'])}   benign refusal {pct(b['refusal_rate'])} "
               f"(n={b['lines']})")
    out.append("")
    out.append(f"{'lang':6s} {'lines':>6s} {'macroF1':>8s} {'recall':>7s} {'over-flag':>9s}")
    for lang, m in report["languages"].items():
        out.append(f"{lang:6s} {m['lines']:6d} {pct(m['macro_f1']):>8s} {pct(m['harmful_recall']):>7s} "
                   f"{pct(m['benign']['overflag_rate']):>9s}")
    return "\n".join(out)
