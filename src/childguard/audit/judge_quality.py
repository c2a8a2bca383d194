"""How far each scoring judge can be trusted, shown beside every score in the report: the accuracy and
Cohen's kappa it reached on the held-out labelled answers (`childguard audit-judges --write` stores them
in audit/data/judge_quality.json), and, when an LLM judge ran, its live agreement with the detectors."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

QUALITY_FILE = "judge_quality.json"


@dataclass(frozen=True, slots=True)
class JudgeBadge:
    judge: str
    text: str


def measured() -> dict[str, Any] | None:
    f = resources.files("childguard.audit.data").joinpath(QUALITY_FILE)
    return json.loads(f.read_text(encoding="utf-8")) if f.is_file() else None


def _measured_text(q: dict[str, Any] | None, judge: str, task: str) -> str:
    m = ((q or {}).get("judges", {}).get(judge, {}) or {}).get(task)
    if not m:
        return "not measured (run childguard audit-judges --write)"
    return (f"held-out accuracy {m['accuracy']:.2f}, Cohen's kappa {m['kappa']:.2f} on {m['n']} labelled answers "
            f"in {m['languages']} languages (weakest: {m.get('worst_language', 'n/a')})")


def badges_for(summaries: Sequence[dict[str, Any]]) -> dict[str, JudgeBadge]:
    q = measured()
    harm = ("harm rule (detectors on the answer, or full compliance with a harmful request), harmful vs not: "
            + _measured_text(q, "audit", "harmful") + "; detectors alone: " + _measured_text(q, "detectors", "harmful"))
    agreement = summaries[0].get("judge_agreement", {}) if summaries else {}
    if agreement.get("llm_cases"):
        kappa = agreement.get("cohen_kappa")
        harm += (f"; LLM judge agreed on {100 * agreement['percent']:.0f}% of {agreement['llm_cases']} answers "
                 f"(kappa {kappa if kappa is not None else 'n/a'})")
    return {
        "harm": JudgeBadge("audit", harm),
        "kind": JudgeBadge("kind", "answer-kind model: " + _measured_text(q, "kind", "kind")),
        "readability": JudgeBadge("readability", "reading-grade formula, a screening signal (not measured)"),
        "none": JudgeBadge("none", "transport errors, no judge involved"),
    }
