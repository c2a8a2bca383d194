"""The CLI as a new user meets it: codes that name no language or country are refused, a closed pipe
ends quietly, and `eval` reports the lines it could not score and exits non-zero."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from childguard.cli import main
from childguard.iso_codes import is_country, is_language

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("flag", "value", "words"), [("--lang", "xx", "not a language code"),
                                                      ("--lang", "qq", "not a language code"),
                                                      ("--country", "ZZ", "not a country code"),
                                                      ("--country", "QQ", "not a country code")])
def test_codes_that_name_nothing_are_refused(flag: str, value: str, words: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "hello", flag, value]) == 2
    assert words in capsys.readouterr().err


def test_real_codes_and_aliases_still_work(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "hola", "--lang", "es-MX", "--country", "UK", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["lang"] == "es"
    assert all(is_language(c) for c in ("en", "fil", "he", "sw", "hi", "zh", "pt"))


def test_every_helpline_country_is_a_country() -> None:
    """YAML reads a bare NO (Norway) as false: its helplines were unreachable."""
    raw = yaml.safe_load((ROOT / "src/childguard/data/helplines.yaml").read_text(encoding="utf-8"))
    assert [k for k in raw["countries"] if not (isinstance(k, str) and is_country(k.upper()))] == []


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": "what's the capital of france"}) + "\n"
                           for i in range(3000)), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    run = subprocess.run(f"{sys.executable} -m childguard check --jsonl {src} | head -n 1", shell=True,
                         capture_output=True, text=True, env=env, timeout=120)
    assert json.loads(run.stdout)["id"] == 0
    assert "Traceback" not in run.stderr and "BrokenPipeError" not in run.stderr, run.stderr


def test_eval_reports_unscored_lines_and_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "labelled.jsonl"
    src.write_text("\n".join([
        json.dumps({"text": "i want to kill myself", "label": "self_harm"}),
        json.dumps({"text": "hello", "label": "not_a_category"}),
        "this is not json",
        json.dumps({"text": "hello", "label": "benign", "age": 200}),
        json.dumps({"text": "what's the capital of france", "label": "benign"}),
    ]) + "\n", encoding="utf-8")
    assert main(["eval", str(src), "--json-out", str(tmp_path / "m.json")]) == 3
    err = capsys.readouterr().err
    assert f"{src}:2: label 'not_a_category'" in err
    assert f"{src}:3: " in err and f"{src}:4: " in err and "age 200" in err
    assert "3 of 5 lines were not scored" in err
    metrics = json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))
    assert metrics["failed"] == [{"line": 4, "error": metrics["failed"][0]["error"]}]
    # a clean file still exits 0
    clean = tmp_path / "clean.jsonl"
    clean.write_text(json.dumps({"text": "hello", "label": "benign"}) + "\n", encoding="utf-8")
    assert main(["eval", str(clean), "--json-out", str(tmp_path / "c.json")]) == 0
