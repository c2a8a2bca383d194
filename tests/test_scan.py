"""`childguard scan` on a real local Ray (started once for the module): JSON Lines, CSV and Parquet with
bad rows, conversation mode against `childguard check --conversation`, the Python API, kill -9 and
resume, and the report page in headless Chromium."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

ray = pytest.importorskip("ray")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from childguard import Guard  # noqa: E402
from childguard.cli import main  # noqa: E402
from childguard.errors import InvalidInputError  # noqa: E402
from childguard.scan import ScanConfig, run_scan, scan  # noqa: E402
from childguard.scan.inputs import BadRow, plan, read_shard  # noqa: E402
from childguard.scan.runtime import start_local  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = ROOT / "build/screenshots"
TEXTS = ["can you help me with my maths homework?", "gg that was a great round", "i want to kill myself",
         "are you home alone? don't tell your mum", "call me on 07700 900123 tonight",
         "you're so ugly, everyone hates you", "what's the capital of france", "mi perro es muy bonito"]


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """One private Ray for the module (starting one takes seconds on a shared 2-core machine)."""
    if ray.is_initialized():
        ray.shutdown()
    start_local(2, object_store_mb=128)
    address = ray.get_runtime_context().gcs_address
    assert address.startswith("127.0.0.1:")  # loopback only
    yield address
    ray.shutdown()


def _read_decisions(out: Path) -> Any:
    return pa.concat_tables([pq.read_table(p) for p in sorted((out / "decisions").glob("*.parquet"))])


def _messages(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [{"id": f"m{i}", "text": rng.choice(TEXTS), "age": rng.choice([8, 11, 14])} for i in range(n)]


@pytest.fixture(scope="module")
def mixed_inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]], int]:
    """A folder with JSON Lines, CSV and Parquet, each with bad rows; returns (folder, good rows, bad count)."""
    folder = tmp_path_factory.mktemp("inputs")
    rows = _messages(240)
    with (folder / "a.jsonl").open("wb") as fh:
        for r in rows[:100]:
            fh.write(json.dumps(r).encode() + b"\n")
        fh.write(b"{not json\n")
        fh.write(b'{"id": "bad-utf8", "text": "caf\xe9"}\n')
        fh.write(b'{"id": "no-text"}\n')
        fh.write(b'["an", "array"]\n\n')
        fh.write(json.dumps({"id": "num", "text": 5}).encode())  # last line, no newline
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["id", "text", "age"])
    for r in rows[100:180]:
        w.writerow([r["id"], r["text"], r["age"]])
    w.writerow(["quoted", 'a "quoted"\nmulti-line message, call 07700 900123', 12])  # a record over two lines
    w.writerow(["too", "many", "fields", "here"])
    w.writerow(["badage", "hello", "two hundred"])
    (folder / "b.csv").write_text(buf.getvalue(), encoding="utf-8")
    pq.write_table(pa.Table.from_pylist(rows[180:]), folder / "c.parquet", row_group_size=16)
    (folder / "notes.txt").write_text("not an input", encoding="utf-8")
    good = [*rows, {"id": "quoted", "text": 'a "quoted"\nmulti-line message, call 07700 900123', "age": 12}]
    return folder, good, 7  # 5 bad JSON Lines rows, 2 bad CSV records


def test_planning_cuts_at_record_boundaries(mixed_inputs: tuple[Path, list[dict[str, Any]], int]) -> None:
    folder, good, _ = mixed_inputs
    shards = plan((str(folder),), shard_rows=7)
    assert {Path(s.path).name for s in shards} == {"a.jsonl", "b.csv", "c.parquet"}
    items = [item for s in shards for item in read_shard(s)]
    rows = [i for i in items if not isinstance(i, BadRow)]
    # every record read exactly once, the quoted two-line CSV record whole, in input order
    assert [r.data["id"] for r in rows if r.data.get("id") not in {"no-text", "num", "too", "badage"}] == \
        [g["id"] for g in good[:100]] + [g["id"] for g in good[100:180]] + ["quoted"] + [g["id"] for g in good[180:240]]
    assert len({r.seq for r in rows}) == len(rows)
    bad_rows = [i for i in items if isinstance(i, BadRow)]
    where = {b.location.rsplit("/", 1)[-1]: b.code for b in bad_rows}
    assert where["a.jsonl:101"] == "invalid_input" and where["a.jsonl:102"] == "invalid_text"
    assert where["a.jsonl:104"] == "invalid_input"  # the JSON array
    assert where["b.csv:84"] == "invalid_input"  # wrong field count, after the two-line record (lines 82-83)


def test_scan_messages_end_to_end(cluster: str, mixed_inputs: tuple[Path, list[dict[str, Any]], int],
                                  tmp_path: Path, guard: Guard) -> None:
    folder, good, n_bad = mixed_inputs
    out = tmp_path / "out"
    err = io.StringIO()
    summary = run_scan(ScanConfig(inputs=(str(folder),), out=str(out), age_field="age", shard_rows=50,
                                  workers=2), err=err)
    # rows "no-text" (missing text), "num" (text is a number) and "badage" are bad at decision time
    assert summary["rows"] == len(good)
    assert summary["bad_rows"] == n_bad
    table = _read_decisions(out)
    assert "text" not in table.column_names
    ids = table.column("id").to_pylist()
    assert sorted(ids) == sorted(g["id"] for g in good)  # none lost, none twice
    by_id = dict(zip(ids, table.column("action").to_pylist(), strict=True))
    for g in good[::9]:
        assert by_id[g["id"]] == guard.check(g["text"], age=g["age"]).action.value
    bad = [json.loads(line) for line in (out / "bad_rows.jsonl").read_text().splitlines()]
    assert len(bad) == n_bad and all(":" in b["location"] or "#" in b["location"] for b in bad)
    assert {b["code"] for b in bad} >= {"invalid_input", "invalid_text", "invalid_age"}
    assert "bad row" in err.getvalue() and "a.jsonl:101" in err.getvalue()
    saved = json.loads((out / "summary.json").read_text())
    assert saved["counts"]["action"] == {a: by_id_count for a, by_id_count in
                                         _count(table.column("action").to_pylist()).items()}
    assert sum(saved["score_histogram"]["counts"]) == len(good)
    page = (out / "report.html").read_text()
    assert "07700 900123" not in page and "[private]" in page  # redacted excerpts only
    assert "<script" not in page and "http" not in page.replace("http-equiv", "")  # self-contained
    assert not (out / "_scan" / "parts").exists()


def _count(values: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


def _conversation_log(tmp: Path) -> tuple[Path, Path]:
    """The evaluation conversations with times: (time-ordered file for the CLI, shuffled CSV for scan)."""
    rows: list[dict[str, Any]] = []
    start = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)
    for f in sorted((ROOT / "evalsets/conversations").glob("*.yaml")):
        for k, conv in enumerate(yaml.safe_load(f.read_text(encoding="utf-8"))):
            at = start + timedelta(minutes=7 * k)
            for turn, (role, sender, text) in enumerate(conv["messages"]):
                at += timedelta(minutes=conv.get("minutes", 2))
                rows.append({"id": f"{conv['id']}-{turn}", "conversation": conv["id"], "sender": sender,
                             "role": role, "text": text, "age": conv["age"], "time": at.isoformat()})
    ordered = sorted(rows, key=lambda r: r["time"])
    cli_in = tmp / "ordered.jsonl"
    cli_in.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ordered), encoding="utf-8")
    shuffled = list(rows)
    random.Random(3).shuffle(shuffled)
    scan_in = tmp / "shuffled.csv"
    with scan_in.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(shuffled)
    return cli_in, scan_in


@pytest.fixture(scope="module")
def conversation_scan(cluster: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Any]]:
    """(time-ordered JSONL, scan output folder, summary) of the evaluation conversations, shuffled."""
    tmp = tmp_path_factory.mktemp("conversations")
    cli_in, scan_in = _conversation_log(tmp)
    out = tmp / "out"
    summary = run_scan(ScanConfig(inputs=(str(scan_in),), out=str(out), conversation_field="conversation",
                                  age_field="age", shard_rows=40, workers=2, progress=False))
    return cli_in, out, summary


def test_conversation_mode_matches_check_conversation(conversation_scan: tuple[Path, Path, dict[str, Any]]) -> None:
    cli_in, out, summary = conversation_scan
    buf = io.StringIO()
    assert main(["check", "--conversation", str(cli_in)], out=buf) == 0
    ids = [json.loads(line)["id"] for line in cli_in.read_text().splitlines()]
    expected = {}
    for ident, line in zip(ids, buf.getvalue().splitlines(), strict=True):
        d = json.loads(line)
        expected[ident] = (d["conversation"], d["turn"], d["action"], d["message_action"], d["flagged"],
                           sorted(f["kind"] for f in d["findings"]))
    table = _read_decisions(out).to_pylist()
    got = {r["id"]: (r["conversation"], r["turn"], r["action"], r["message_action"], r["flagged"],
                     sorted(f["kind"] for f in r["findings"])) for r in table}
    assert len(table) == len(got) == len(expected)
    assert got == expected
    assert any(kinds for *_, kinds in expected.values())  # the data does exercise conversation findings
    assert summary["conversations"] == len({v[0] for v in expected.values()})
    first = summary["conversation_review"][0]
    assert first["action"] == "escalate" and first["escalations"]
    assert not (out / "_scan" / "parts").exists()  # routed text is gone once the scan is done


def test_python_api_returns_a_ray_dataset(cluster: str, mixed_inputs: tuple[Path, list[dict[str, Any]], int],
                                          tmp_path: Path) -> None:
    folder, good, n_bad = mixed_inputs
    ds = scan(str(folder), age_field="age", shard_rows=60, keep_text=True)
    assert isinstance(ds, ray.data.Dataset)
    rows = ds.take_all()
    ok = [r for r in rows if r["error"] is None]
    assert sorted(r["id"] for r in ok) == sorted(g["id"] for g in good)
    assert len(rows) - len(ok) == n_bad
    assert all(r["text"] for r in ok)
    _, scan_in = _conversation_log(tmp_path)
    conv = scan(str(scan_in), conversation_field="conversation", age_field="age", shard_rows=50)
    escalated = conv.filter(lambda r: r["action"] == "escalate").count()
    assert 0 < escalated < conv.count()


def test_kill_nine_then_resume_loses_and_duplicates_nothing(cluster: str, tmp_path: Path) -> None:
    src = tmp_path / "log.jsonl"
    rows = _messages(2400, seed=11)
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "childguard", "scan", str(src), "--out", str(out), "--workers", "1",
           "--shard-rows", "40", "--ray-address", cluster, "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    done = out / "_scan" / "done"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None and not (done.exists() and any(done.iterdir())):
        time.sleep(0.02)
    assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = len(list(done.glob("*.json")))
    assert 0 < finished < 60  # killed in the middle
    with pytest.raises(InvalidInputError, match="--resume"):
        run_scan(ScanConfig(inputs=(str(src),), out=str(out), shard_rows=40))
    with pytest.raises(InvalidInputError, match="plan differs"):
        run_scan(ScanConfig(inputs=(str(src),), out=str(out), shard_rows=50, resume=True))
    summary = run_scan(ScanConfig(inputs=(str(src),), out=str(out), shard_rows=40, workers=2, resume=True,
                                  progress=False))
    assert summary["shards_skipped_on_resume"] >= finished
    ids = _read_decisions(out).column("id").to_pylist()
    assert len(ids) == len(rows) and sorted(ids) == sorted(r["id"] for r in rows)
    assert not list(out.rglob(".*.tmp"))


def test_report_page_reads_well_in_a_browser(conversation_scan: tuple[Path, Path, dict[str, Any]]) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium not installed (make test installs it as root)")
    sync_api = pytest.importorskip("playwright.sync_api")
    _, out, _ = conversation_scan
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        for name, width in (("scan_report.png", 1200), ("scan_report_narrow.png", 390)):
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto((out / "report.html").as_uri())
            assert page.locator("h1").inner_text() == "Child protection scan"
            assert page.locator("table tbody tr").count() >= 3
            assert page.locator("svg").count() == 5
            # nothing wider than the screen: a phone can read it without scrolling sideways
            assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
            page.screenshot(path=str(SHOTS / name), full_page=True)
        browser.close()


def test_progress_line_shows_rate_and_eta() -> None:
    from childguard.scan.progress import Progress

    buf = io.StringIO()
    p = Progress("scanning", 1000, buf, every_s=0.0)
    time.sleep(0.05)
    p.update(250)
    p.close()
    first = buf.getvalue().splitlines()[0]
    assert "250/1,000 rows (25%)" in first and "rows/s" in first and "ETA 0:" in first


def test_bad_arguments_fail_before_ray_starts(tmp_path: Path) -> None:
    buf = io.StringIO()
    assert main(["scan", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "o")], out=buf) == 2
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    assert main(["scan", str(tmp_path / "notes.txt"), "--out", str(tmp_path / "o")], out=buf) == 2
    with pytest.raises(InvalidInputError, match="not both"):
        ScanConfig(inputs=("x",), age="12", age_field="age")


def test_child_sender_through_the_whole_scan(cluster: str, tmp_path: Path) -> None:
    """A log without a role column: named with --child-sender, the stranger's grooming is found and the
    summary says how roles were assigned; without it, the summary and stderr warn."""
    from tests.test_scan_fields import GROOMING

    log = tmp_path / "chat.jsonl"
    log.write_text("".join(json.dumps({"id": f"t{i}", "conversation": "c1", "sender": s, "text": t, "age": 11,
                                       "time": f"2026-03-01T16:{i:02d}:00+00:00"}) + "\n"
                           for i, (s, t) in enumerate(GROOMING)), encoding="utf-8")
    err = io.StringIO()
    named = run_scan(ScanConfig(inputs=(str(log),), out=str(tmp_path / "named"), conversation_field="conversation",
                                child_sender=("k",), workers=1, progress=False), err=err)
    assert named["roles"] == f"roles: {len(GROOMING)} by --child-sender" and "warning" not in err.getvalue()
    assert named["conversation_review"][0]["action"] == "escalate"
    assert "grooming_trajectory" in named["conversation_review"][0]["findings"]
    err = io.StringIO()
    guessed = run_scan(ScanConfig(inputs=(str(log),), out=str(tmp_path / "guessed"), conversation_field="conversation",
                                  workers=1, progress=False), err=err)
    assert "judged as the child's own words" in guessed["roles"]
    assert err.getvalue().startswith("warning: roles:")
    assert "--child-sender" in (tmp_path / "guessed" / "report.html").read_text(encoding="utf-8")
