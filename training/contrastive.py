"""The project's contrastive corpus: harmful rows, each with a benign twin on the same topic.

Why pairs: a classifier that sees risky words only in harmful rows learns topics, not harm. Every harmful
row here has a twin that shares its topic words but not its intent, and both rows carry one `twin_id`, so a
split keeps a pair on one side and the operating point can be set on twins it never trained on.

Layout: ``training/contrastive/<lang>/*.jsonl``, one JSON object a line:
``text, lang, role (child|contact|ai_output), age (int 4-17, or null for an adult), categories (taxonomy ids;
[] = benign), topic (a sensitive-topic id or null), twin_id, kind``.

``python -m training.contrastive [DIR ...]`` checks every row and prints counts per language, category,
length band, role and kind; it exits 1 when a row is invalid.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent / "contrastive"
TAXONOMY = Path(__file__).resolve().parents[1] / "src" / "childguard" / "data" / "taxonomy.yaml"
ROLES = frozenset({"child", "contact", "ai_output"})
LANGS = frozenset(["ar", "bn", "de", "en", "es", "fr", "hi", "id", "it", "ko", "pt", "ru", "sw", "tr", "vi", "zh"])
# harmful rows are "harmful"; the rest name what makes a benign row look risky (XSTest's kinds and children's
# questions), or are benign short replies and long-form benign texts
HARMFUL_KINDS = frozenset({"harmful", "harmful_long"})
BENIGN_KINDS = frozenset({
    "homonym", "figurative", "safe_target", "safe_context", "definition", "real_discrimination",
    "nonsense_group", "public_figure_privacy", "child_question", "support_seeking", "benign_long", "short_reply",
    "everyday",
})
MAX_CHARS = 3000


@dataclass(frozen=True)
class Row:
    text: str
    lang: str
    role: str
    age: int | None
    categories: tuple[str, ...]
    topic: str | None
    twin_id: str | None
    kind: str
    source: str

    @property
    def harmful(self) -> bool:
        return bool(self.categories)


def _taxonomy() -> tuple[frozenset[str], frozenset[str]]:
    data = yaml.safe_load(TAXONOMY.read_text(encoding="utf-8"))
    return frozenset(data["categories"]), frozenset(data["topics"])


def _parse(obj: object, where: str, cats: frozenset[str], topics: frozenset[str]) -> Row:
    if not isinstance(obj, dict):
        raise ValueError(f"{where}: not a JSON object")
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_CHARS:
        raise ValueError(f"{where}: text must be a non-empty string of at most {MAX_CHARS} characters")
    lang = obj.get("lang")
    if lang not in LANGS:
        raise ValueError(f"{where}: lang {lang!r} is not one of the 16 languages")
    role = obj.get("role")
    if role not in ROLES:
        raise ValueError(f"{where}: role {role!r} must be one of {sorted(ROLES)}")
    age = obj.get("age")
    if age is not None and (not isinstance(age, int) or isinstance(age, bool) or not 4 <= age <= 17):
        raise ValueError(f"{where}: age must be an integer 4-17 or null (adult)")
    categories = obj.get("categories")
    if not isinstance(categories, list) or any(c not in cats for c in categories):
        raise ValueError(f"{where}: categories must be a list of taxonomy ids, got {categories!r}")
    topic = obj.get("topic")
    if topic is not None and topic not in topics:
        raise ValueError(f"{where}: topic {topic!r} is not a taxonomy topic")
    kind = obj.get("kind")
    if categories and kind not in HARMFUL_KINDS:
        raise ValueError(f"{where}: a row with categories has kind harmful or harmful_long, got {kind!r}")
    if not categories and kind not in BENIGN_KINDS:
        raise ValueError(f"{where}: a benign row's kind must be one of {sorted(BENIGN_KINDS)}, got {kind!r}")
    twin_id = obj.get("twin_id")
    if twin_id is not None and not isinstance(twin_id, str):
        raise ValueError(f"{where}: twin_id must be a string or null")
    return Row(text, lang, role, age, tuple(categories), topic, twin_id, kind, where)


def iter_rows(*dirs: Path, skipped: list[str] | None = None) -> Iterator[Row]:
    """Every valid row under the folders. A bad row raises ValueError naming its file and line, or, when a
    `skipped` list is given, is left out and its reason appended there."""
    cats, topics = _taxonomy()
    for d in dirs or (ROOT,):
        for path in sorted(Path(d).rglob("*.jsonl")):
            for n, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
                if not line.strip():
                    continue
                where = f"{path}:{n}"
                try:
                    try:
                        obj = json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise ValueError(f"{where}: invalid JSON ({exc.msg})") from exc
                    row = _parse(obj, where, cats, topics)
                except ValueError as exc:
                    if skipped is None:
                        raise
                    skipped.append(str(exc))
                    continue
                yield row


def length_band(text: str) -> str:
    n = len(text)
    return "<60" if n < 60 else "60-300" if n <= 300 else ">300"


def check(dirs: list[Path]) -> int:
    counts: dict[str, Counter[str]] = {k: Counter() for k in ("lang", "category", "length", "role", "kind")}
    errors: list[str] = []
    pairs: dict[str, list[bool]] = {}
    seen: set[str] = set()
    dupes = 0
    for row in iter_rows(*dirs, skipped=errors):
        key = " ".join(row.text.lower().split())
        if key in seen:
            dupes += 1
        seen.add(key)
        counts["lang"][row.lang] += 1
        for c in row.categories or ("(benign)",):
            counts["category"][c] += 1
        counts["length"][length_band(row.text)] += 1
        counts["role"][row.role] += 1
        counts["kind"][row.kind] += 1
        if row.twin_id:
            pairs.setdefault(row.twin_id, []).append(row.harmful)
    for name, counter in counts.items():
        print(f"{name}: " + ", ".join(f"{k} {v}" for k, v in sorted(counter.items())))
    broken = [t for t, flags in pairs.items() if not (any(flags) and not all(flags))]
    print(f"rows {sum(counts['lang'].values())}, twin pairs {len(pairs) - len(broken)}, "
          f"twin ids without both a harmful and a benign row {len(broken)}, duplicate texts {dupes}")
    for e in errors[:50]:
        print("ERROR", e, file=sys.stderr)
    return 1 if errors else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dirs", nargs="*", type=Path, default=[ROOT])
    args = parser.parse_args(argv)
    return check(args.dirs)


if __name__ == "__main__":
    raise SystemExit(main())
