"""Every expression in data/patterns/ must run in linear time: Python's regex engine holds the interpreter
lock, so one super-linear expression on one long word freezes every route of the service (a 40 kB word
took 17 s on the street-address pattern). The sweep runs in a child process with a deadline, because a
quadratic expression on 100 kB would otherwise hang the test run instead of failing it; the child prints
each case before it runs it, so a timeout names the culprit."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

# runs of one character class, separators, and near-misses of each table's lead-ins and suffixes
HOSTILE_UNITS = ["a", "a-", "1", "1 ", "a ", "क", "中", "ش", "my name is ", "\t", "a.", "a@", "aastraße ",
                 "street ", "don't tell ", "a1", "-1.1234,", "中路", "रोड ", "1 a ", "شارع ",
                 "ich heiße ", "i am ", "call me ", "Z0rb ", "я ", "I'm Ab ", "мe ", "\u200b"]
SIZE = 100_000
PER_CALL_S = 1.0  # a linear expression takes < 0.15 s on 100 kB; the old street pattern took minutes
DEADLINE_S = 60.0

_SWEEP = textwrap.dedent(f"""
    import re, sys, time
    from childguard.pattern_data import pattern_table, expression_list
    from childguard.name_redaction import name_spans
    units = {HOSTILE_UNITS!r}
    exprs = [(f"{{t}}.{{p.id}}", p.regex.sub) for t in ("grooming", "personal_data", "prompt_attack")
             for p in pattern_table(t)]
    exprs += [(f"{{t}}[{{i}}]", re.compile(e, re.UNICODE).sub) for t in ("names", "name_hints")
              for i, e in enumerate(expression_list(t))]
    exprs.append(("name_spans", lambda repl, s: name_spans(s)))
    for name, sub in exprs:
        for u in units:
            s = u * ({SIZE} // len(u))
            print("RUN", name, repr(u), flush=True)
            t0 = time.perf_counter()
            sub("x", s)
            print("TOOK", name, repr(u), f"{{time.perf_counter() - t0:.3f}}", flush=True)
""")


def test_every_pattern_is_linear_on_100kb_hostile_input() -> None:
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    try:
        done = subprocess.run([sys.executable, "-c", _SWEEP], capture_output=True, text=True, env=env,
                              timeout=DEADLINE_S)
        out = done.stdout
        assert done.returncode == 0, done.stderr[-2000:]
    except subprocess.TimeoutExpired as exc:
        raw = exc.stdout or b""
        out = raw.decode() if isinstance(raw, bytes) else raw
        last = [line for line in out.splitlines() if line.startswith("RUN")][-1:]
        raise AssertionError(f"the sweep did not finish in {DEADLINE_S:g} s; stuck on {last}") from exc
    took = [line.rsplit(" ", 1) for line in out.splitlines() if line.startswith("TOOK")]
    assert len(took) > 40 * len(HOSTILE_UNITS)  # every table and every name expression ran
    slow = [(case, float(s)) for case, s in took if float(s) > PER_CALL_S]
    assert not slow, f"super-linear on {SIZE:,} characters: {slow}"
