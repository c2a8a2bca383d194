"""Measures the name redactor (5b): recall on a labelled set of children giving their own name
(evalsets/names/<lang>.yaml) and its cost on ordinary text (the share of texts it changes). A row is
recalled when none of its name words survives in the redacted text, compared on the normalised view,
so a name kept behind a zero-width character still counts as a leak."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import ConfigError
from .name_redaction import name_spans, normal_view
from .redaction import PLACEHOLDER, redact_names


@dataclass(frozen=True, slots=True)
class NameRow:
    lang: str
    text: str
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RecallReport:
    rows: int
    recalled: int
    per_language: dict[str, tuple[int, int]]
    misses: tuple[tuple[str, str], ...] = field(default=())

    @property
    def recall(self) -> float:
        return self.recalled / self.rows if self.rows else 0.0


@dataclass(frozen=True, slots=True)
class CostReport:
    texts: int
    changed: int
    examples: tuple[str, ...] = field(default=())

    @property
    def rate(self) -> float:
        return self.changed / self.texts if self.texts else 0.0


def load_rows(folder: Path) -> list[NameRow]:
    rows: list[NameRow] = []
    for path in sorted(folder.glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        if not isinstance(raw, list):
            raise ConfigError(f"{path}: must be a list of {{text, names}} rows")
        for i, r in enumerate(raw):
            if not (isinstance(r, dict) and isinstance(r.get("text"), str) and isinstance(r.get("names"), list)):
                raise ConfigError(f"{path}[{i}]: each row needs `text` and a list `names`")
            rows.append(NameRow(path.stem, r["text"], tuple(str(n) for n in r["names"])))
    return rows


_UNSPACED = frozenset({"zh", "ja", "ko", "th"})  # names run into the words around them: compare substrings
_TOKEN = re.compile(r"[^\s.,!?;:()\[\]\"।،]+")


def leaked(row: NameRow) -> bool:
    out = normal_view(redact_names(row.text, PLACEHOLDER))[0].casefold()
    names = [normal_view(n)[0].casefold() for n in row.names]
    if row.lang in _UNSPACED:
        return any(n in out for n in names)
    tokens = set(_TOKEN.findall(out))
    return any(n in tokens for n in names)


def recall(rows: Iterable[NameRow]) -> RecallReport:
    per: dict[str, list[int]] = {}
    misses: list[tuple[str, str]] = []
    for row in rows:
        slot = per.setdefault(row.lang, [0, 0])
        slot[1] += 1
        if leaked(row):
            misses.append((row.lang, row.text))
        else:
            slot[0] += 1
    n, ok = sum(v[1] for v in per.values()), sum(v[0] for v in per.values())
    return RecallReport(n, ok, {k: (v[0], v[1]) for k, v in sorted(per.items())}, tuple(misses))


def cost(texts: Iterable[str], keep_examples: int = 20) -> CostReport:
    n = changed = 0
    examples: list[str] = []
    for text in texts:
        n += 1
        spans = name_spans(text)
        if spans:
            changed += 1
            if len(examples) < keep_examples:
                examples.append(redact_names(text, PLACEHOLDER))
    return CostReport(n, changed, tuple(examples))


HELD_OUT = 10  # training/build_common_words.py leaves out every 10th line of each file


def benign_texts(root: Path, lang: str, limit: int) -> list[str]:
    """Up to `limit` ordinary texts of one language from ../shared/data/benign, only the held-out lines
    the common-word lists were not built from, taken round-robin over the sources."""
    per_source: list[list[str]] = []
    for path in sorted(root.glob(f"*/{lang}.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            texts: list[str] = []
            for n, line in enumerate(fh):
                if n % HELD_OUT == 0:
                    texts.append(json.loads(line)["text"])
                    if len(texts) >= limit:
                        break
            per_source.append(texts)
    out: list[str] = []
    for i in range(max((len(s) for s in per_source), default=0)):
        for texts in per_source:
            if i < len(texts):
                out.append(texts[i])
                if len(out) >= limit:
                    return out
    return out
