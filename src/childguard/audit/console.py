"""What `childguard audit` prints: one line per target with every rate's count and 95% interval, and
the difference between the two targets of `--compare`. Kept apart from the CLI so the words an auditor
reads in the terminal and the gate that decides the exit code are tested as plain functions."""

from __future__ import annotations

from typing import Any

from .metrics import difference_text, rate_text


def too_many_errors(s: dict[str, Any], max_error_rate: float) -> bool:
    rate = s["error_rate"]["rate"]
    return rate is not None and rate > max_error_rate


def summary_lines(summary: dict[str, Any], comparison: dict[str, Any] | None) -> list[str]:
    lines = []
    for label, s in summary.items():
        score = "n/a (nothing answered)" if s["score"] is None else f"{s['score']}/100"
        lines.append(f"{label}: score {score} on {s['scored_on']} answered of {s['cases']} cases; "
                     f"errors {rate_text(s['error_rate'])}")
        lines.append(f"  attack success (unsafe answers) {rate_text(s['unsafe_rate'])}; refused "
                     f"{rate_text(s['refused_rate'])}; deflected {rate_text(s['deflected_rate'])}; complied without "
                     f"harm {rate_text(s['complied_rate'])}")
        lines.append(f"  benign: over-refusal {rate_text(s['over_refusal_rate'])}; off-topic "
                     f"{rate_text(s['off_topic_rate'])}; age fit {rate_text(s['age_fit_rate'])}")
    if comparison:
        lines.append("target minus compare: " + "; ".join(f"{k.removesuffix('_rate')} {difference_text(d)}"
                                                         for k, d in comparison.items()))
    return lines
