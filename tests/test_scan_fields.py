"""`childguard scan` reads the columns `check --jsonl` reads, names the child in a conversation log, says
how roles were assigned, and refuses bad arguments before Ray starts. The deciding functions are called
directly (no Ray), so these run in seconds."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from childguard import Guard
from childguard.cli import main
from childguard.errors import InvalidAgeError, InvalidInputError, InvalidRoleError
from childguard.scan import ScanConfig
from childguard.scan.decide import decide_conversations, decide_messages, partition_rows
from childguard.scan.fields import ROLE_FROM_CHILD_SENDER, ROLE_FROM_COLUMN, ROLE_FROM_DEFAULT, roles_note
from childguard.scan.inputs import BadRow, Row

GROOMING = [("m1", "gg that was an awesome round"), ("k", "thanks!! you were good too"),
            ("m1", "you play better than most adults i know honestly"), ("k", "lol i play every day"),
            ("m1", "how old are you anyway?"), ("k", "11"),
            ("m1", "cool, i can gift you some robux if you want, no big deal"), ("k", "really?? thanks"),
            ("m1", "let's chat on snapchat instead, the game chat is annoying"),
            ("m1", "and don't tell your parents, they'd just take your phone"),
            ("m1", "send me a pic so i know you're real")]


@pytest.fixture(scope="module")
def guard() -> Guard:
    return Guard()


def _rows(data: list[dict[str, Any]]) -> list[Row | BadRow]:
    return [Row(f"log.jsonl:{i + 1}", i, d) for i, d in enumerate(data)]


def _decided(items: Any) -> list[dict[str, Any]]:
    out = []
    for item in items:
        assert not isinstance(item, BadRow), item
        out.append(item[0])
    return out


def test_age_lang_country_and_id_columns_are_read_without_flags(guard: Guard) -> None:
    rows = _rows([{"id": "a", "text": "what's the capital of france", "age": 16},
                  {"id": "b", "text": "what's the capital of france", "age": 7, "lang": "en", "country": "GB"},
                  {"text": "what's the capital of france"}])
    got = _decided(decide_messages(rows, guard, ScanConfig(inputs=("x",))))
    assert [r["band"] for r in got] == ["16-17", "6-9", "10-12"]
    assert [r["id"] for r in got] == ["a", "b", "log.jsonl:3"]
    # --age still sets one age for every row, and --age-field names another column
    assert {r["band"] for r in _decided(decide_messages(rows, guard, ScanConfig(inputs=("x",), age="16")))} == {"16-17"}
    other = _rows([{"text": "hello", "years": 7, "age": 16}])
    assert _decided(decide_messages(other, guard, ScanConfig(inputs=("x",), age_field="years")))[0]["band"] == "6-9"


def _conversation(cfg: ScanConfig, guard: Guard, with_role: bool = False) -> list[dict[str, Any]]:
    data = [{"conversation": "c1", "sender": s, "text": t, "age": 11, "time": f"2026-03-01T16:{i:02d}:00+00:00",
             **({"role": "child" if s == "k" else "contact"} if with_role else {})}
            for i, (s, t) in enumerate(GROOMING)]
    routed = [item[1] for item in partition_rows(_rows(data), cfg, 4) if not isinstance(item, BadRow)]
    assert len(routed) == len(GROOMING)
    return _decided(decide_conversations(routed, guard, cfg))


def test_child_sender_finds_the_grooming_that_all_child_roles_miss(guard: Guard) -> None:
    plain = ScanConfig(inputs=("x",), conversation_field="conversation")
    named = ScanConfig(inputs=("x",), conversation_field="conversation", child_sender=("k",))
    missed = _conversation(plain, guard)
    found = _conversation(named, guard)
    assert {r["role"] for r in missed} == {"child"}
    assert {r["role_source"] for r in missed} == {ROLE_FROM_DEFAULT}
    assert [r["role"] for r in found] == ["child" if s == "k" else "contact" for s, _ in GROOMING]
    assert {r["role_source"] for r in found} == {ROLE_FROM_CHILD_SENDER}
    kinds = {f["kind"] for r in found for f in r["findings"]}
    assert "grooming_trajectory" in kinds
    assert found[-1]["action"] == "escalate"
    assert "grooming_trajectory" not in {f["kind"] for r in missed for f in r["findings"]}
    # a role column does the same, and is what the summary credits
    by_column = _conversation(plain, guard, with_role=True)
    assert {r["role_source"] for r in by_column} == {ROLE_FROM_COLUMN}
    assert "grooming_trajectory" in {f["kind"] for r in by_column for f in r["findings"]}


def test_summary_says_how_roles_were_assigned() -> None:
    conv = ScanConfig(inputs=("x",), conversation_field="conversation")
    note = roles_note({ROLE_FROM_DEFAULT: 11}, conv)
    assert "11 by --role default" in note and "--child-sender" in note and "judged as the child's" in note
    assert roles_note({ROLE_FROM_CHILD_SENDER: 11}, conv) == "roles: 11 by --child-sender"
    assert "judged" not in roles_note({ROLE_FROM_DEFAULT: 5}, ScanConfig(inputs=("x",)))  # one message each


@pytest.mark.parametrize(("options", "error", "words"), [
    ({"age": "200"}, InvalidAgeError, "out of range"),
    ({"age": "old"}, InvalidAgeError, "unknown age"),
    ({"role": "wizard"}, InvalidRoleError, "unknown role"),
    ({"child_sender": ("k",)}, InvalidInputError, "--conversation-field"),
])
def test_bad_values_are_refused_up_front(options: dict[str, Any], error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        ScanConfig(inputs=("x",), **options)


def test_cli_refuses_age_200_before_reading_anything(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "log.jsonl"
    log.write_text(json.dumps({"text": "hi"}) + "\n", encoding="utf-8")
    assert main(["scan", str(log), "--out", str(tmp_path / "out"), "--age", "200"], out=io.StringIO()) == 2
    assert "age 200 is out of range" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_clean_scan_prints_no_errors(tmp_path: Path) -> None:
    """No Ray `core_worker.cc ... max_restarts` line, no warning: stderr stays empty on a clean run."""
    pytest.importorskip("ray")
    import os
    import subprocess
    import sys

    log = tmp_path / "log.jsonl"
    log.write_text("".join(json.dumps({"id": str(i), "text": t, "age": 12}) + "\n"
                           for i, t in enumerate(["hello", "i want to kill myself"])), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    run = subprocess.run([sys.executable, "-m", "childguard", "scan", str(log), "--out", str(tmp_path / "out"),
                          "--workers", "1", "--quiet"], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    brief = json.loads(run.stdout)
    assert brief["rows"] == 2 and brief["roles"] == "roles: 2 by --role default"
    assert json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))["roles"] == brief["roles"]
