"""End-to-end scores on public benchmarks, with the published anchors beside them.

Our own held-out split is templated and flatters any model; public sets written by others are the honest
test (3e). The convention is the one the anchors use: a message counts as stopped when the decision
flags a category or its action is block, redirect or escalate, scored as `role=child`, age 15. These
files are for evaluation only: nothing here is ever used for training."""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .decision import Decision
from .errors import InvalidInputError
from .guard import CheckRequest, Guard
from .policy import Action

STOPPING = {Action.BLOCK, Action.REDIRECT, Action.ESCALATE}

# Published F1 on the full OpenAI moderation set (multi-billion-parameter GPU models) and Llama Guard 3's
# XSTest false-positive rate; sources in ../shared/eval/README.md.
ANCHORS: dict[str, dict[str, float]] = {
    "openai_moderation": {"Llama Guard 3 8B": 0.795, "ShieldGemma 9B": 0.821, "Nemotron Safety Guard 8B": 0.810,
                          "Qwen3Guard 8B (strict)": 0.688, "WildGuard 7B": 0.721, "Granite Guardian 3.0": 0.74},
    "xstest": {"Llama Guard 3 8B (false-positive rate)": 0.044},
}


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    unsafe: bool
    kind: str = ""  # the set's own sub-type (XSTest type, held-out language), for the breakdown
    lang: str | None = None
    identity: bool = False  # "I'm gay / Muslim / disabled and scared": must never be blocked (4d, 7d)
    age: int | None = None  # the row's own child age and role where the set has them (held-out twins)
    role: str | None = None


@dataclass
class SetResult:
    name: str
    n: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    by_kind: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    identity_blocked: Counter[str] = field(default_factory=Counter)
    identity_seen: Counter[str] = field(default_factory=Counter)

    def add(self, example: Example, stopped: bool) -> None:
        if example.identity:
            self.identity_seen[example.kind] += 1
            self.identity_blocked[example.kind] += int(stopped)
        self.n += 1
        key = ("tp" if stopped else "fn") if example.unsafe else ("fp" if stopped else "tn")
        setattr(self, key, getattr(self, key) + 1)
        self.by_kind[example.kind][key] += 1

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def safe_stopped(self) -> float:
        return self.fp / (self.fp + self.tn) if self.fp + self.tn else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": self.n, "tp": self.tp, "fp": self.fp, "fn": self.fn, "tn": self.tn,
            "precision": round(self.precision, 4), "recall": round(self.recall, 4), "f1": round(self.f1, 4),
            "unsafe_stopped": round(self.recall, 4), "safe_stopped": round(self.safe_stopped, 4),
            "by_kind": {k: dict(v) for k, v in sorted(self.by_kind.items())},
            "identity_statements": {k: {"n": n, "stopped": self.identity_blocked[k]}
                                    for k, n in sorted(self.identity_seen.items())},
        }


def stopped(decision: Decision) -> bool:
    return bool(decision.flagged) or decision.action in STOPPING


def load_openai_moderation(path: Path) -> list[Example]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            obj = json.loads(line)
            labels = [v for k, v in obj.items() if k != "prompt" and isinstance(v, int)]
            out.append(Example(obj["prompt"], any(v == 1 for v in labels), "unsafe" if any(labels) else "safe"))
    return out


def load_xstest(path: Path) -> list[Example]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [Example(r["prompt"], r["label"] == "unsafe", r["type"]) for r in csv.DictReader(fh)]


def load_heldout(path: Path) -> list[Example]:
    """The project's own held-out rows as `make train` writes them (label 'benign' or a category id);
    sensitive topics count as safe: answering them well is the point (4d)."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            obj = json.loads(line)
            age = obj.get("age")
            out.append(Example(obj["text"], obj["label"] != "benign", obj.get("lang") or "", obj.get("lang"),
                               bool(obj.get("identity")), age if isinstance(age, int) else None,
                               obj.get("role") if isinstance(obj.get("role"), str) else None))
    return out


LOADERS: dict[str, tuple[str, Callable[[Path], list[Example]]]] = {
    "openai_moderation": ("openai_moderation_dev.jsonl", load_openai_moderation),
    "xstest": ("xstest_dev.csv", load_xstest),
}


def run_set(guard: Guard, name: str, examples: list[Example], age: int = 15, workers: int = 1) -> SetResult:
    result = SetResult(name)
    reqs = [CheckRequest(e.text, age=e.age if e.age is not None else age, lang=e.lang, role=e.role or "child")
            for e in examples]
    for example, decision in zip(examples, guard.check_many(reqs, workers=workers), strict=True):
        result.add(example, isinstance(decision, Decision) and stopped(decision))
    return result


def evaluate_public(guard: Guard, eval_dir: Path, heldout: Path | None = None, age: int = 15,
                    workers: int = 1, limit: int | None = None,
                    heldout_dir: Path | None = None) -> dict[str, SetResult]:
    """The public sets, the project's held-out rows and, from `heldout_dir`, one set per file that the
    trainer writes there (held-out twins, polyguard_social, rtp_lx, children's questions, short replies),
    each scored with its rows' own age and role."""
    results: dict[str, SetResult] = {}
    for name, (filename, loader) in LOADERS.items():
        path = eval_dir / filename
        if not path.exists():
            raise InvalidInputError(f"{path} not found; pass --eval-dir with the public evaluation sets")
        results[name] = run_set(guard, name, loader(path)[:limit], age, workers)
    if heldout is not None and heldout.exists():
        results["heldout_own"] = run_set(guard, "heldout_own", load_heldout(heldout)[:limit], age, workers)
    if heldout_dir is not None and heldout_dir.is_dir():
        for path in sorted(heldout_dir.glob("*.jsonl")):
            name = f"heldout_{path.stem}"
            results[name] = run_set(guard, name, load_heldout(path)[:limit], age, workers)
    return results


def format_table(results: dict[str, SetResult]) -> str:
    lines = ["| set | n | precision | recall (unsafe stopped) | F1 | safe stopped | published anchors |",
             "|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        anchors = ", ".join(f"{k} {v:.3f}" for k, v in ANCHORS.get(name, {}).items()) or "-"
        lines.append(f"| {name} | {r.n} | {r.precision:.3f} | {r.recall:.3f} | {r.f1:.3f} | "
                     f"{r.safe_stopped:.3f} | {anchors} |")
    for set_name, held in results.items():
        if not set_name.startswith("heldout_"):
            continue
        lines += ["", f"{set_name} by language",
                  "| lang | harmful | recall | benign | safe stopped | identity statements stopped |",
                  "|---|---|---|---|---|---|"]
        for lang, c in sorted(held.by_kind.items()):
            pos, neg = c["tp"] + c["fn"], c["fp"] + c["tn"]
            ident = f"{held.identity_blocked[lang]} / {held.identity_seen[lang]}" if held.identity_seen[lang] else "-"
            lines.append(f"| {lang or '?'} | {pos} | {c['tp'] / pos if pos else 0:.3f} | {neg} | "
                         f"{c['fp'] / neg if neg else 0:.3f} | {ident} |")
    xs = results.get("xstest")
    if xs is not None:
        lines += ["", "XSTest by prompt type: stopped / n", "| type | label | stopped | n |", "|---|---|---|---|"]
        for kind, c in sorted(xs.by_kind.items()):
            unsafe = kind.startswith("contrast_")
            n = sum(c.values())
            hit = c["tp"] if unsafe else c["fp"]
            lines.append(f"| {kind} | {'unsafe' if unsafe else 'safe'} | {hit} | {n} |")
    return "\n".join(lines)
