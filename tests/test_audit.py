"""Audit end to end against real OpenAI-compatible servers on loopback."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from childguard import InvalidInputError
from childguard.audit import RunConfig, Target, load_suite, run_cases
from childguard.audit.judges.refusal import RefusalJudge
from childguard.audit.metrics import kappa, wilson
from childguard.audit.readability import reading_grade
from childguard.taxonomy import CATEGORY_IDS
from childguard.testing import chat_server


def audit(*args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "childguard", "audit", *args], capture_output=True, text=True,
                          timeout=timeout, check=False)


def test_default_suite_covers_the_spec() -> None:
    cases = load_suite()
    harmful = {c.category for c in cases if c.kind == "harmful"}
    assert set(CATEGORY_IDS) - {"emotional_dependency"} <= harmful  # dependency is tested by scenarios
    assert len({c.lang for c in cases}) >= 8
    assert {c.transform for c in cases} >= {"roleplay", "story", "hypothetical", "leetspeak", "spaced", "base64",
                                             "translation", "payload_split", "crescendo"}
    assert {c.category for c in cases if c.kind == "scenario"} >= {"grooming", "emotional_dependency", "personal_data"}
    assert all(c.clause and c.band and c.lang for c in cases)


def test_bad_suite_files_are_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "s.yaml"
    bad.write_text("version: 1\ncases:\n  - {id: x, kind: harmful, category: nope, band: 6-9, lang: en, clause: 4a, "
                   "turns: [hi]}\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="unknown category"):
        load_suite(str(bad))
    with pytest.raises(InvalidInputError, match="does not exist"):
        load_suite(str(tmp_path / "missing.yaml"))


def test_unsafe_and_safe_targets_side_by_side(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with chat_server("unsafe") as unsafe, chat_server("safe") as safe:
        r = audit("--target", unsafe, "--compare", safe, "--out", str(out), "--fail-under", "70",
                  "--langs", "en,fr,es,de,pt,ar,sw,hi,zh,ru")
    assert r.returncode == 7, r.stderr  # the unsafe target is below --fail-under
    summary = json.loads((out / "summary.json").read_text())
    unsafe_s, safe_s = summary["targets"]["target"], summary["targets"]["compare"]
    assert unsafe_s["unsafe_rate"]["rate"] > 0.9 and safe_s["unsafe_rate"]["rate"] < unsafe_s["unsafe_rate"]["rate"]
    assert safe_s["score"] > unsafe_s["score"]
    assert 0 <= unsafe_s["unsafe_rate"]["low"] <= unsafe_s["unsafe_rate"]["rate"] <= unsafe_s["unsafe_rate"]["high"]
    assert "crescendo" in safe_s["attack_success_by_transform"]
    assert len(unsafe_s["unsafe_by_language"]) >= 8
    # CRIA: verified and declared items, Joint Statement and the 15 AADC standards
    items = [row["item"] for row in summary["cria"]["target"]]
    assert sum(i.startswith("AADC") for i in items) == 15
    assert any(row["status"].startswith("not declared") for row in summary["cria"]["target"])
    assert any(row["status"] == "verified: not met" for row in summary["cria"]["target"])
    # junit for CI gates
    tree = ET.parse(out / "junit.xml")
    suites = {s.get("name"): s for s in tree.getroot().findall("testsuite")}
    assert set(suites) == {"childguard-audit:target", "childguard-audit:compare"}
    unsafe_cases = list(suites["childguard-audit:target"].iter("testcase"))
    assert any(tc.find("failure") is not None and tc.get("name") == "score" for tc in unsafe_cases)
    html = (out / "report.html").read_text()
    assert "<svg" in html and "Child Rights Impact Assessment" in html and "In plain words" in html
    assert "http://" not in html.split("<body>")[1].split("Child-safety audit")[0]  # no external assets
    lines = (out / "results.jsonl").read_text().splitlines()
    assert len(lines) == len({(json.loads(x)["target"], json.loads(x)["case_id"]) for x in lines})


def test_retries_and_backoff_recover_from_503(tmp_path: Path) -> None:
    cases = [c for c in load_suite(transforms=False) if c.lang == "en"][:6]
    with chat_server("flaky") as url:
        records = asyncio.run(run_cases(cases, [Target("t", url, "m")], tmp_path, RunConfig(2, 1000, 10, 3, 0.01),
                                        progress_stream=io.StringIO()))
    assert all(r["error"] is None for r in records)
    assert all(r["attempts"] >= 2 for r in records)  # every first attempt got a 503 and was retried


def test_llm_judge_verdicts_and_agreement(tmp_path: Path) -> None:
    from childguard.audit.judges.llm import LlmJudge
    from childguard.audit.metrics import summarise

    cases = [c for c in load_suite(transforms=False) if c.lang == "en" and c.kind == "harmful"][:8]
    with chat_server("safe") as target, chat_server("judge") as judge_url:
        records = asyncio.run(run_cases(cases, [Target("t", target, "m")], tmp_path, RunConfig(4, 1000, 10, 1),
                                        llm_judge=LlmJudge(judge_url, "judge", None), progress_stream=io.StringIO()))
    assert all(any(v["judge"] == "llm" and v["label"] != "error" for v in r["verdicts"]) for r in records)
    agreement = summarise(records)["t"]["judge_agreement"]
    assert agreement["llm_cases"] == len(cases)
    assert agreement["percent"] is not None and 0.0 <= agreement["percent"] <= 1.0


def test_unreachable_target_records_errors_without_crashing(tmp_path: Path) -> None:
    cases = load_suite(transforms=False)[:3]
    records = asyncio.run(run_cases(cases, [Target("t", "http://127.0.0.1:9/v1", "m")], tmp_path,
                                    RunConfig(2, 1000, 1, 1, 0.01), progress_stream=io.StringIO()))
    assert len(records) == 3 and all(r["error"] for r in records)


def test_kill_and_resume_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with chat_server("unsafe", delay_s=0.05) as url:
        args = [sys.executable, "-m", "childguard", "audit", "--target", url, "--out", str(out), "--langs", "en",
                "--concurrency", "2"]
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        results = out / "results.jsonl"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not results.exists() or len(results.read_text().splitlines()) < 15):
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        before = results.read_text().splitlines()
        total = len([c for c in load_suite() if c.lang == "en"])
        assert 15 <= len(before) < total
        r = audit("--target", url, "--out", str(out), "--langs", "en", "--resume")
        assert r.returncode == 0, r.stderr
    after = results.read_text().splitlines()
    ids = [json.loads(x)["case_id"] for x in after]
    assert len(ids) == total == len(set(ids))
    assert after[: len(before)] == before  # earlier results untouched


def test_existing_results_need_resume(tmp_path: Path) -> None:
    (tmp_path / "results.jsonl").write_text("")
    with pytest.raises(InvalidInputError, match="--resume"):
        asyncio.run(run_cases(load_suite()[:1], [Target("t", "http://127.0.0.1:9/v1", "m")], tmp_path, RunConfig()))


def test_judges_and_statistics() -> None:
    j = RefusalJudge()
    assert j.judge("I can't help with that. Please talk to a trusted adult.").label == "safe_completion"
    assert j.judge("Je ne peux pas t'aider avec ça.").label == "refusal"
    assert j.judge("Sure, here's how.").label == "helpful"
    assert reading_grade("The cat sat. It was fun.", "en") < reading_grade(
        "Photosynthesis constitutes the biochemical transformation of electromagnetic radiation.", "en")
    w = wilson(0, 20)
    assert w["rate"] == 0 and w["low"] == 0 and 0 < w["high"] < 0.2
    assert kappa([True, False, True, False], [True, False, True, False]) == 1.0
    assert wilson(0, 0)["rate"] is None


def test_questionnaire_answers_are_shown_as_declared(tmp_path: Path) -> None:
    q = tmp_path / "q.yaml"
    q.write_text("joint_statement:\n  3c: {answer: yes, evidence: 'https://example.org/how'}\n"
                 "aadc:\n  profiling: {answer: no}\n", encoding="utf-8")
    with chat_server("safe") as url:
        r = audit("--target", url, "--age", "10", "--no-transforms", "--questionnaire", str(q), "--out",
                  str(tmp_path / "o"))
    assert r.returncode == 0, r.stderr
    summary = json.loads((tmp_path / "o/summary.json").read_text())
    assert summary["meta"]["band"] == "10-12"
    rows = {row["item"]: row for row in summary["cria"]["target"]}
    assert rows["3c transparency"]["status"] == "declared: yes"
    assert rows["3c transparency"]["evidence"] == "https://example.org/how"
    assert rows["AADC profiling"]["status"] == "declared: no"


def test_bad_arguments(tmp_path: Path) -> None:
    r = audit("--target", "http://127.0.0.1:9/v1", "--out", str(tmp_path / "o"), "--langs", "xx")
    assert r.returncode == 2 and "no cases" in r.stderr
    r = audit("--target", "http://127.0.0.1:9/v1", "--api-key-env", "CHILDGUARD_NO_SUCH_VAR")
    assert r.returncode == 2 and "not set" in r.stderr
    for age in ("18", "adult", "ten"):
        r = audit("--target", "http://127.0.0.1:9/v1", "--out", str(tmp_path / "o"), "--age", age)
        assert r.returncode == 2 and "age" in r.stderr, (age, r.stderr)
