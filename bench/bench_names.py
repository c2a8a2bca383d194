"""Name redaction (5b): recall on evalsets/names (children giving their own name in 16 languages) and
the cost on ordinary text: the share of ../shared/data/benign texts in which the redactor replaces
something. Run: python bench/bench_names.py [--per-language 2000] [--benign ../shared/data/benign]"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from childguard.name_evaluation import benign_texts, cost, load_rows, recall

ROOT = Path(__file__).resolve().parents[1]
LANGS = ("en", "es", "fr", "de", "pt", "ar", "hi", "sw", "zh", "ru", "it", "id", "ko", "tr", "vi", "bn")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-language", type=int, default=2000)
    ap.add_argument("--benign", type=Path, default=ROOT.parent / "shared" / "data" / "benign")
    ap.add_argument("--examples", type=int, default=3)
    args = ap.parse_args()
    r = recall(load_rows(ROOT / "evalsets" / "names"))
    print(f"recall {r.recalled}/{r.rows} = {r.recall:.1%}")
    print("  " + ", ".join(f"{k} {a}/{b}" for k, (a, b) in r.per_language.items()))
    for lang, text in r.misses:
        print(f"  miss [{lang}] {text}")
    total = changed = 0
    t0 = time.perf_counter()
    for lang in LANGS:
        c = cost(benign_texts(args.benign, lang, args.per_language), keep_examples=args.examples)
        total, changed = total + c.texts, changed + c.changed
        print(f"benign {lang}: {c.changed}/{c.texts} changed ({c.rate:.2%})" +
              "".join(f"\n    {e[:120]!r}" for e in c.examples))
    ms = (time.perf_counter() - t0) * 1000 / max(total, 1)
    print(f"benign all: {changed}/{total} changed ({changed / max(total, 1):.2%}); {ms:.2f} ms per text")


if __name__ == "__main__":
    main()
