"""report.html from its Jinja template (audit/templates), autoescaped like the service's pages: the
report quotes what targets answered, and an answer must never become markup in the reader's browser.
The numbers are prepared here so the template only lays them out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ..redaction import redact_personal_data
from .judge_quality import JudgeBadge, badges_for
from .metrics import difference_text, rate_text
from .records import AuditRecord

_TEMPLATES = resources.files("childguard.audit").joinpath("templates")
WORST_EXAMPLES = 12
CHARTS = (("unsafe_by_category", "Unsafe answers by category"), ("unsafe_by_language", "Unsafe answers by language"),
          ("unsafe_by_band", "Unsafe answers by age band"),
          ("attack_success_by_transform", "Attack success by adversarial transform"),
          ("over_refusal_by_language", "Over-refusal of benign questions by language"))


def redact(text: str, limit: int = 300) -> str:
    text = redact_personal_data(text)
    return text[:limit] + ("…" if len(text) > limit else "")


def cria_class(status: str) -> str:
    if status.endswith("met") and "not" not in status:
        return "ok"
    return "bad" if "not met" in status else "decl"


def checklist_class(status: str) -> str:
    return {"met": "ok", "not met": "bad"}.get(status, "decl")


env = Environment(loader=FileSystemLoader(str(_TEMPLATES)), autoescape=select_autoescape(["html"]),
                  undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
env.filters.update(redact=redact, cria_class=cria_class, checklist_class=checklist_class)


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    y: int
    width: str
    colour: str
    low_x: str
    high_x: str
    text_x: str
    text: str


@dataclass(frozen=True, slots=True)
class Chart:
    title: str
    height: int
    bars: list[Bar]
    judged: str = ""  # which judge counted the rate, and its measured agreement


@dataclass(frozen=True, slots=True)
class PlainSummary:
    label: str
    score: float | None
    unsafe: str
    over_refusal: str
    weakest: str
    errors: int
    answered: int
    cases: int
    error_rate: str
    refused: str
    deflected: str
    complied: str
    off_topic: str


@dataclass(frozen=True, slots=True)
class RateRow:
    """One headline rate in the scores table, with the judge that decides it and how well that judge
    agrees with the labelled answers it was measured on."""

    name: str
    values: list[str]
    difference: str
    judge: JudgeBadge


RATE_ROWS = (("unsafe_rate", "attack success (unsafe answers to harmful requests)", "harm"),
             ("refused_rate", "harmful requests refused", "kind"),
             ("deflected_rate", "harmful requests deflected (off-topic)", "kind"),
             ("complied_rate", "harmful requests complied with, no harm found", "kind"),
             ("over_refusal_rate", "benign questions refused (over-refusal, 4d)", "kind"),
             ("off_topic_rate", "benign questions answered off-topic", "kind"),
             ("benign_failure_rate", "benign questions not answered (scored defect)", "kind"),
             ("age_fit_rate", "benign answers at the band's reading level", "readability"),
             ("error_rate", "requests that failed (not scored)", "none"))


def chart(title: str, data: dict[str, dict[str, Any]], compare: dict[str, dict[str, Any]] | None = None
          ) -> Chart | None:
    """A horizontal bar per group with its 95% interval; `compare` adds the second target's rate."""
    items = [(k, v) for k, v in data.items() if v.get("rate") is not None]
    if not items:
        return None
    bars = []
    for i, (label, v) in enumerate(items):
        y, w = 20 + 22 * i, 400 * v["rate"]
        colour = "#c0392b" if v["rate"] > 0.2 else ("#e67e22" if v["rate"] > 0.05 else "#27ae60")
        text = f"{100 * v['rate']:.0f}% (n={v['n']})"
        if compare and compare.get(label, {}).get("rate") is not None:
            text += f" vs {100 * compare[label]['rate']:.0f}%"
        bars.append(Bar(label, y, f"{w:.1f}", colour, f"{170 + 400 * v['low']:.1f}", f"{170 + 400 * v['high']:.1f}",
                        f"{175 + max(w, 400 * v['high']):.1f}", text))
    return Chart(title, 22 * len(items) + 30, bars)


def plain_summary(label: str, s: dict[str, Any]) -> PlainSummary:
    worst = sorted(((v["rate"], k) for k, v in s["unsafe_by_category"].items() if v["rate"]), reverse=True)[:3]
    weakest = ", ".join(f"{k} ({100 * r:.0f}%)" for r, k in worst) or "none"
    return PlainSummary(label, s["score"], rate_text(s["unsafe_rate"]), rate_text(s["over_refusal_rate"]), weakest,
                        s["errors"], s["answered"], s["cases"], rate_text(s["error_rate"]),
                        rate_text(s["refused_rate"]),
                        rate_text(s["deflected_rate"]), rate_text(s["complied_rate"]), rate_text(s["off_topic_rate"]))


def rate_rows(summary: dict[str, Any], comparison: dict[str, Any] | None) -> list[RateRow]:
    badges = badges_for([next(iter(summary.values()))])
    rows = []
    for key, name, judged_by in RATE_ROWS:
        diff = difference_text(comparison[key]) if comparison and key in comparison else ""
        rows.append(RateRow(name, [rate_text(s[key]) for s in summary.values()], diff, badges[judged_by]))
    return rows


def render_report(records: Sequence[AuditRecord], summary: dict[str, Any], meta: dict[str, Any],
                  cria: dict[str, list[dict[str, str]]], comparison: dict[str, Any] | None = None) -> str:
    targets = list(summary)
    first = summary[targets[0]]
    other = summary[targets[1]] if len(targets) > 1 else None
    versus = f" vs {targets[1]})" if other else ")"
    badges = badges_for([first])
    charts = [chart(f"{title} ({targets[0]}{versus}", first[key], other[key] if other else None)
              for key, title in CHARTS]
    charts = [replace(c, judged=badges["kind" if key.startswith("over_refusal") else "harm"].text) if c else None
              for c, (key, _) in zip(charts, CHARTS, strict=True)]
    described = "; ".join(f"{label}: {t['url']} (model {t['model']})" for label, t in meta.get("targets", {}).items())
    return env.get_template("report.html").render(
        described=described, suite=str(meta.get("suite")), cases=meta.get("cases"),
        band=str(meta.get("band") or "all"), langs=", ".join(meta.get("langs") or ["all"]),
        finished=str(meta.get("finished")), plain=[plain_summary(t, summary[t]) for t in targets],
        charts=[c for c in charts if c is not None], targets=targets, rates=rate_rows(summary, comparison),
        compared=comparison is not None,
        worst=[r for r in records if r.unsafe and r.kind != "benign"][:WORST_EXAMPLES],
        cria=cria, jurisdiction=meta.get("jurisdiction"))
