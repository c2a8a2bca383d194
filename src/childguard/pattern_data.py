"""Reads the regular-expression tables under data/patterns/, so that the expressions are data a reviewer
can read per language, not Python. Each file is read and compiled once; a bad expression is a
ConfigError naming the file and the entry at load, not a crash on the first message that reaches it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from .errors import ConfigError

IGNORE_CASE = re.IGNORECASE | re.UNICODE
_FRAGMENT = re.compile(r"\{([a-z_]+)\}")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_LANG = re.compile(r"^(?:any|[a-z]{2,3})$")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True)
class Pattern:
    """`id`: the machine kind a finding carries; `text`: its readable evidence. `anchors`: lower-case
    substrings of which every match contains at least one. Testing them with `in` first skips the
    regular expression for most messages, which keeps a check well under 1 ms. `redact`: False for
    expressions that find a request for data rather than the data."""

    id: str
    text: str
    regex: re.Pattern[str]
    score: float
    anchors: tuple[str, ...] = ()
    alternatives: tuple[str, ...] = ()
    redact: bool = True

    def search(self, text: str, lowered: str) -> re.Match[str] | None:
        if self.anchors and not any(a in lowered for a in self.anchors):
            return None
        return self.regex.search(text)


def pattern_by_id(table: tuple[Pattern, ...], pattern_id: str) -> Pattern:
    for p in table:
        if p.id == pattern_id:
            return p
    raise ConfigError(f"no pattern '{pattern_id}' in the table; known: {[p.id for p in table]}")


def _read(name: str) -> dict[str, Any]:
    source = f"data/patterns/{name}.yaml"
    try:
        text = resources.files("childguard.data").joinpath("patterns", f"{name}.yaml").read_text(encoding="utf-8")
        raw = yaml.load(text, Loader=_LOADER)  # a safe loader, in C when libyaml is there
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {source}: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{source} is not a mapping")
    return raw


def _splice(expr: str, fragments: dict[str, str], where: str) -> str:
    def one(m: re.Match[str]) -> str:
        if m.group(1) not in fragments:
            raise ConfigError(f"{where}: unknown fragment {{{m.group(1)}}}; fragments: {sorted(fragments)}")
        return fragments[m.group(1)]

    return _FRAGMENT.sub(one, expr)


def _fragments(raw: dict[str, Any], source: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in (raw.get("fragments") or {}).items():
        if not isinstance(value, str):
            raise ConfigError(f"{source}: fragments.{key} must be a string")
        out[str(key)] = _splice(value, out, f"{source}: fragments.{key}")
    return out


def _expressions(patterns: Any, fragments: dict[str, str], where: str) -> list[tuple[str, str]]:
    """Per-language lists flattened in file order, which is match priority, as (location, expression)."""
    if not isinstance(patterns, dict) or not patterns:
        raise ConfigError(f"{where}: `patterns` must map languages (or `any`) to lists of expressions")
    out: list[tuple[str, str]] = []
    for lang, exprs in patterns.items():
        if not isinstance(lang, str) or not _LANG.match(lang):
            raise ConfigError(f"{where}: patterns key {lang!r} is not a language code or `any`")
        if not isinstance(exprs, list) or not exprs or not all(isinstance(e, str) for e in exprs):
            raise ConfigError(f"{where}: patterns.{lang} must be a non-empty list of strings")
        for i, expr in enumerate(exprs):
            at = f"{where}: patterns.{lang}[{i}]"
            out.append((at, _splice(expr, fragments, at)))
    return out


def _compile(located: list[tuple[str, str]], flags: int) -> None:
    for at, expr in located:
        try:
            re.compile(expr, flags)
        except re.error as exc:
            raise ConfigError(f"{at} is not a valid regular expression: {exc}") from exc


def _entry(raw: Any, fragments: dict[str, str], source: str, index: int) -> Pattern:
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: entries[{index}] must be a mapping")
    pid = raw.get("id")
    where = f"{source}: entry '{pid}'" if isinstance(pid, str) else f"{source}: entries[{index}]"
    if not isinstance(pid, str) or not _ID.match(pid):
        raise ConfigError(f"{where}: `id` must be a snake_case machine id")
    text, score, anchors = raw.get("text"), raw.get("score"), raw.get("anchors") or []
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"{where}: `text` (the readable evidence) is missing")
    if not isinstance(score, int | float) or isinstance(score, bool) or not 0.0 < float(score) <= 1.0:
        raise ConfigError(f"{where}: `score` must be a number in (0, 1]")
    if not isinstance(anchors, list) or not all(isinstance(a, str) and a and a == a.casefold() for a in anchors):
        raise ConfigError(f"{where}: `anchors` must be non-empty lower-case strings (they are matched casefolded)")
    located = _expressions(raw.get("patterns"), fragments, where)
    alternatives = tuple(expr for _, expr in located)
    try:
        regex = re.compile("|".join(f"(?:{a})" for a in alternatives), IGNORE_CASE)
    except re.error:
        _compile(located, IGNORE_CASE)  # names the culprit; compiling only on failure halves load time
        raise
    return Pattern(pid, text, regex, float(score), tuple(anchors), alternatives, bool(raw.get("redact", True)))


def parse_table(raw: dict[str, Any], source: str) -> tuple[Pattern, ...]:
    entries = raw.get("entries")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{source}: `entries` must be a non-empty list")
    fragments = _fragments(raw, source)
    table = tuple(_entry(e, fragments, source, i) for i, e in enumerate(entries))
    ids = [p.id for p in table]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ConfigError(f"{source}: ids {duplicates} are used twice; a finding's kind must name one entry")
    return table


def parse_expressions(raw: dict[str, Any], source: str, flags: int = re.UNICODE) -> tuple[str, ...]:
    located = _expressions(raw.get("patterns"), _fragments(raw, source), source)
    _compile(located, flags)
    return tuple(expr for _, expr in located)


@cache
def pattern_table(name: str) -> tuple[Pattern, ...]:
    """data/patterns/<name>.yaml as compiled patterns, in file order; matched ignoring case."""
    return parse_table(_read(name), f"data/patterns/{name}.yaml")


@cache
def table_fragment(name: str, key: str) -> str:
    """One fragment of data/patterns/<name>.yaml, spliced, for code that needs the same word list."""
    source = f"data/patterns/{name}.yaml"
    fragments = _fragments(_read(name), source)
    if key not in fragments:
        raise ConfigError(f"{source}: no fragment '{key}'; fragments: {sorted(fragments)}")
    return fragments[key]


@cache
def expressions_by_language(name: str, flags: int = re.UNICODE) -> tuple[tuple[str, str], ...]:
    """data/patterns/<name>.yaml as (language, expression) pairs, for tables whose matches are judged per
    language (the name hints check a word against that language's common words)."""
    raw = _read(name)
    source = f"data/patterns/{name}.yaml"
    located = _expressions(raw.get("patterns"), _fragments(raw, source), source)
    _compile(located, flags)
    return tuple((at.rsplit("patterns.", 1)[1].split("[", 1)[0], expr) for at, expr in located)


@cache
def expression_list(name: str, flags: int = re.UNICODE) -> tuple[str, ...]:
    """data/patterns/<name>.yaml as expressions to compile one by one (fragments spliced in), in file order."""
    return parse_expressions(_read(name), f"data/patterns/{name}.yaml", flags)
