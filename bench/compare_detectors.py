"""The classifier and the semantic detector on the same rows of the project's held-out split: harmful
recall, benign stopped and identity statements stopped, per language. Evaluation only; prints a table
and writes JSON.

    python bench/compare_detectors.py --heldout build/semantic/heldout_own.jsonl --n 2500
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from childguard import Guard, Settings
from childguard.public_eval import load_heldout, run_set

ROOT = Path(__file__).resolve().parents[1]
PATTERNS = ["personal_data", "contact_risk", "prompt_injection"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--heldout", type=Path, default=ROOT / "build/semantic/heldout_own.jsonl")
    ap.add_argument("--n", type=int, default=2500, help="rows drawn at random (seed 1)")
    ap.add_argument("--out", type=Path, default=ROOT / "build/compare_detectors.json")
    args = ap.parse_args()
    rows = load_heldout(args.heldout)
    random.Random(1).shuffle(rows)
    rows = rows[: args.n]
    result = {}
    for name in ("classifier", "semantic"):
        r = run_set(Guard(Settings(detectors=[name, *PATTERNS])), name, rows)
        langs = {}
        for lang, c in sorted(r.by_kind.items()):
            pos, neg = c["tp"] + c["fn"], c["fp"] + c["tn"]
            langs[lang] = {"harmful": pos, "recall": round(c["tp"] / pos, 3) if pos else None, "benign": neg,
                           "benign_stopped": round(c["fp"] / neg, 3) if neg else None,
                           "identity_stopped": f"{r.identity_blocked[lang]}/{r.identity_seen[lang]}"}
        result[name] = {"recall": round(r.recall, 3), "benign_stopped": round(r.safe_stopped, 3),
                        "f1": round(r.f1, 3), "identity_stopped": f"{sum(r.identity_blocked.values())}/"
                        f"{sum(r.identity_seen.values())}", "languages": langs}
        print(f"{name:10s} recall {r.recall:.3f}  benign stopped {r.safe_stopped:.3f}  F1 {r.f1:.3f}  "
              f"identity stopped {result[name]['identity_stopped']}")
        for lang, m in langs.items():
            print(f"  {lang:4s} recall {m['recall']}  benign stopped {m['benign_stopped']}  "
                  f"identity {m['identity_stopped']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
