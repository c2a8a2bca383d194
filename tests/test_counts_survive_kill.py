"""Transparency counts survive `kill -9` of a service worker: every acknowledged decision is counted,
by the worker itself or, after a crash, by the next one that starts (the count journal)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from childguard import Guard, Settings
from childguard.store import Store
from childguard.store.journal import CountJournal
from childguard.store.stats import DecisionCounter, transparency

SENT = 60


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_kill_minus_nine_loses_no_counted_decision(tmp_path: Path) -> None:
    port = _port()
    env = {**os.environ, "CHILDGUARD_DATABASE_URL": f"sqlite:///{tmp_path}/cg.db",
           "CHILDGUARD_KEY_FILE": str(tmp_path / "key"), "CHILDGUARD_STATS_FLUSH_S": "3600",
           "CHILDGUARD_PORT": str(port)}
    proc = subprocess.Popen([sys.executable, "-m", "childguard", "serve"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        url, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        texts = ["what is photosynthesis?", "i want to kill myself", "you're so ugly"]
        acknowledged = sum(httpx.post(f"{url}/v1/moderations", json={"input": texts[i % 3], "age": 12},
                                      timeout=30).status_code == 200 for i in range(SENT))
        assert acknowledged == SENT
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # no shutdown flush
        proc.wait(timeout=10)
    settings = Settings(key_file=tmp_path / "key")
    store = Store(settings, f"sqlite:///{tmp_path}/cg.db")
    assert transparency(store, min_count=1)["counted"] == 0  # nothing was flushed before the kill
    restarted = DecisionCounter(CountJournal(tmp_path / "counts"))  # what the next worker does at start
    assert restarted.flush(store) == SENT
    assert transparency(store, min_count=1)["counted"] == SENT
    assert len(list((tmp_path / "counts").glob("*.journal"))) == 1  # only the new worker's own file is left


def test_a_live_workers_journal_is_not_taken(tmp_path: Path, guard: Guard) -> None:
    store = Store(Settings(key_file=tmp_path / "key"), f"sqlite:///{tmp_path}/cg.db")
    live = DecisionCounter(CountJournal(tmp_path / "counts"))
    live.count(guard.check("hello", age=10), "moderation")
    other = DecisionCounter(CountJournal(tmp_path / "counts"))
    assert other.pending() == 0  # locked by a running worker
    assert live.flush(store) == 1 and other.flush(store) == 0
