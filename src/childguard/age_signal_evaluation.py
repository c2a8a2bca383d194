"""Precision and recall of self-declared age detection on the labelled set in `evalsets/age_signals/`,
per language, and the rate of false "child" signals on adults' sentences (including adults talking
about their children), the error that would wrongly put an adult into child mode."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .age_signals import AgeSignalDetector, youngest_strong
from .agebands import AgeBand
from .errors import InvalidInputError


def load_age_set(paths: list[Path]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in paths:
        files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
        for f in files:
            data = yaml.safe_load(f.read_text(encoding="utf-8"))
            if not isinstance(data, list):
                raise InvalidInputError(f"{f} must be a YAML list of {{text, band}} rows")
            for i, row in enumerate(data):
                if not isinstance(row, dict) or not isinstance(row.get("text"), str) or "band" not in row:
                    raise InvalidInputError(f"{f}: row {i} needs 'text' and 'band' (a band, or null for adults)")
                band = row["band"]
                rows.append({"text": row["text"], "band": AgeBand(band) if band is not None else None,
                             "lang": row.get("lang", f.stem)})
    return rows


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def evaluate_age_signals(detector: AgeSignalDetector, rows: list[dict[str, Any]],
                         min_confidence: float = 0.7) -> dict[str, Any]:
    per: dict[str, dict[str, int]] = {}
    for row in rows:
        c = per.setdefault(row["lang"], {"children": 0, "adults": 0, "tp": 0, "fp": 0, "band_ok": 0})
        found = youngest_strong(detector.detect(row["text"]), min_confidence)
        if row["band"] is None:
            c["adults"] += 1
            c["fp"] += found is not None
        else:
            c["children"] += 1
            c["tp"] += found is not None
            c["band_ok"] += found is row["band"]

    def summary(c: dict[str, int]) -> dict[str, Any]:
        return {"children": c["children"], "adults": c["adults"],
                "precision": _ratio(c["tp"], c["tp"] + c["fp"]), "recall": _ratio(c["tp"], c["children"]),
                "band_accuracy": _ratio(c["band_ok"], c["tp"]), "false_child_rate": _ratio(c["fp"], c["adults"])}

    total = {k: sum(c[k] for c in per.values()) for k in ("children", "adults", "tp", "fp", "band_ok")}
    return {"min_confidence": min_confidence, "overall": summary(total),
            "by_language": {lang: summary(per[lang]) for lang in sorted(per)}}


def format_age_report(r: dict[str, Any]) -> str:
    def f(v: float | None) -> str:
        return "  -  " if v is None else f"{v:.3f}"

    lines = [f"self-declared age signals (strong: confidence >= {r['min_confidence']})",
             f"{'lang':6s}{'children':>9s}{'adults':>8s}{'precision':>11s}{'recall':>8s}{'band acc':>10s}"
             f"{'false child':>13s}"]
    for lang, m in [*r["by_language"].items(), ("all", r["overall"])]:
        lines.append(f"{lang:6s}{m['children']:9d}{m['adults']:8d}{f(m['precision']):>11s}{f(m['recall']):>8s}"
                     f"{f(m['band_accuracy']):>10s}{f(m['false_child_rate']):>13s}")
    return "\n".join(lines)
