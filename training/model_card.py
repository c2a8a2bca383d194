"""Render docs/model_card.md from the shipped model's metadata and the end-to-end metrics that
`childguard eval` wrote for the held-out split (own data and public data separately).

    make model-card
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}"


def category_table(report: dict[str, Any]) -> str:
    rows = ["| category | precision % | recall % | F1 % | held-out lines | false positives |",
            "|---|---:|---:|---:|---:|---:|"]
    scored = sorted((kv for kv in report["categories"].items() if kv[1]["support"]), key=lambda kv: kv[1]["f1"])
    for cat, m in scored:
        rows.append(f"| {cat} | {pct(m['precision'])} | {pct(m['recall'])} | {pct(m['f1'])} | {m['support']} | "
                    f"{m['false_positives']} |")
    for cat, m in sorted(report["categories"].items()):
        if not m["support"]:
            rows.append(f"| {cat} | | | | 0 | {m['false_positives']} |")
    return "\n".join(rows)


def language_table(report: dict[str, Any]) -> str:
    rows = ["| language | lines | macro F1 % | harmful recall % | benign over-flag % | benign lines |",
            "|---|---:|---:|---:|---:|---:|"]
    for lang, m in sorted(report["languages"].items(), key=lambda kv: -(kv[1]["macro_f1"] or 0)):
        rows.append(f"| {lang} | {m['lines']} | {pct(m['macro_f1'])} | {pct(m['harmful_recall'])} | "
                    f"{pct(m['benign']['overflag_rate'])} | {m['benign']['lines']} |")
    return "\n".join(rows)


def head_table(meta: dict[str, Any]) -> str:
    rows = ["| head | operating threshold | P % | R % | F1 % | n |", "|---|---:|---:|---:|---:|---:|"]
    for label, m in meta["heldout_head_metrics"].items():
        t = meta.get("calibrated_thresholds", {}).get(label, 0.5)
        rows.append(f"| {label} | {t} | {pct(m['precision'])} | {pct(m['recall'])} | {pct(m['f1'])} | {m['support']} |")
    return "\n".join(rows)


def summary(report: dict[str, Any]) -> str:
    b = report["benign"]
    return (f"macro F1 **{pct(report['macro_f1'])}%**, harmful recall **{pct(report['harmful_recall'])}%**, "
            f"benign over-flag **{pct(b['overflag_rate'])}%**, benign refusal **{pct(b['refusal_rate'])}%** "
            f"({report['lines']} lines, {b['lines']} benign)")


def weakest(report: dict[str, Any], n: int = 5) -> str:
    cats = sorted(((m["f1"], c) for c, m in report["categories"].items() if m["support"]))[:n]
    langs = sorted(((m["macro_f1"] or 0, lang) for lang, m in report["languages"].items()))[:n]
    return (", ".join(f"{c} ({pct(f)}%)" for f, c in cats),
            ", ".join(f"{lang} ({pct(f)}%)" for f, lang in langs))  # type: ignore[return-value]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--own", type=Path, default=ROOT / "build/heldout_own.metrics.json")
    ap.add_argument("--public", type=Path, default=ROOT / "build/heldout_public.metrics.json")
    ap.add_argument("--template", type=Path, default=ROOT / "training/model_card.template.md")
    ap.add_argument("--out", type=Path, default=ROOT / "docs/model_card.md")
    args = ap.parse_args()
    meta = json.loads((ROOT / "src/childguard/models/classifier.json").read_text())
    own = json.loads(args.own.read_text())
    public = json.loads(args.public.read_text())
    weak_cats, weak_langs = weakest(own)
    text = args.template.read_text(encoding="utf-8").format(
        digest=meta["weights_sha256_16"], dim_bits=meta["dim_bits"], seed=meta["seed"],
        train_rows=meta["train_rows"], heldout_rows=meta["heldout_rows"], n_labels=len(meta["labels"]),
        sources=", ".join(meta["sources"]), languages=", ".join(meta["languages"]),
        own_summary=summary(own), public_summary=summary(public),
        own_categories=category_table(own), own_languages=language_table(own),
        public_categories=category_table(public), public_languages=language_table(public),
        heads=head_table(meta), weak_categories=weak_cats, weak_languages=weak_langs,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
