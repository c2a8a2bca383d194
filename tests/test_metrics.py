"""GET /metrics: the Prometheus text format, the counts it must move, nothing a child wrote or an id in it,
and one sum over every worker of `serve --workers N`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from childguard import Settings
from childguard.errors import OverloadedError
from childguard.service import create_app
from childguard.service.metrics import OVERLOADED, QUEUE_DEPTH
from childguard.service.offload import DecisionPool
from childguard.store.records import CaseRecord
from childguard.store.spool import Spool
from childguard.testing import TcpProxy, chat_server

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> tuple[str, Samples]:
    r = httpx.get(f"{url}/metrics", timeout=10)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return r.text, samples


def total(samples: Samples, name: str, **labels: str) -> float:
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


SERVED: dict[str, FastAPI] = {}


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("metrics")
    with chat_server("safe") as upstream:
        app = create_app(Settings(rate_limit_per_minute=100_000, rate_limit_burst=100_000, upstream_url=upstream,
                                  spool_file=data / "spool.log", spool_replay_s=3600, key_file=data / "key",
                                  database_url=f"sqlite:///{data}/cg.db"))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        SERVED[base] = app
        yield base
        server.should_exit = True
        thread.join(timeout=10)


def test_counts_move_with_traffic(url: str) -> None:
    _, before = scrape(url)
    assert httpx.post(f"{url}/v1/moderations", json={"input": "i want to kill myself", "age": 13}).status_code == 200
    assert httpx.post(f"{url}/v1/moderations", json={"input": 42}).status_code == 422
    _, after = scrape(url)
    route = {"route": "/v1/moderations", "method": "POST"}
    assert total(after, "childguard_http_requests_total", status="200", **route) == \
        total(before, "childguard_http_requests_total", status="200", **route) + 1
    assert total(after, "childguard_http_requests_total", status="422", **route) == \
        total(before, "childguard_http_requests_total", status="422", **route) + 1
    assert total(after, "childguard_http_request_duration_seconds_count", **route) == \
        total(before, "childguard_http_request_duration_seconds_count", **route) + 2
    escalated = {"source": "moderation", "action": "escalate", "lang": "en"}
    assert total(after, "childguard_decisions_total", **escalated) == \
        total(before, "childguard_decisions_total", **escalated) + 1
    assert after[("childguard_store_up", frozenset({("store", "database")}))] == 1
    assert total(after, "childguard_decision_queue_capacity") >= 1
    assert total(after, "childguard_spool_cases") == 0 and total(after, "childguard_spool_replay_lag_seconds") == 0


def test_upstream_failures_are_counted_plain_and_streamed(url: str) -> None:
    _, before = scrape(url)
    body = {"model": "m", "messages": [{"role": "user", "content": "this one is broken"}]}
    assert httpx.post(f"{url}/v1/chat/completions", json=body, timeout=30).status_code == 502
    streamed = httpx.post(f"{url}/v1/chat/completions", json={**body, "stream": True}, timeout=30)
    assert streamed.status_code == 200 and '"upstream_error"' in streamed.text  # the child got a kind message
    _, after = scrape(url)
    for during in ("request", "stream"):
        key = {"route": "/v1/chat/completions", "during": during}
        assert total(after, "childguard_upstream_errors_total", **key) == \
            total(before, "childguard_upstream_errors_total", **key) + 1, during


def test_no_message_text_profile_or_conversation_id_ever_appears(url: str) -> None:
    mark = f"zq{uuid.uuid4().hex[:12]}"
    profile, conversation = f"profile-{mark}", f"conv-{mark}"
    text = f"my name is {mark} and i want to kill myself"
    httpx.post(f"{url}/v1/moderations", json={"input": text, "age": 12, "profile": profile})
    httpx.post(f"{url}/v1/conversations/messages", json={"conversation": conversation, "sender": f"s-{mark}",
                                                          "text": text, "age": 12, "profile": profile})
    httpx.delete(f"{url}/v1/conversations/{conversation}")
    httpx.post(f"{url}/v1/conversations/check", json={"messages": [{"role": "user", "name": mark, "content": text}],
                                                      "child": mark, "profile": profile})
    httpx.post(f"{url}/v1/chat/completions", json={"model": mark, "user": profile,
                                                   "messages": [{"role": "user", "content": text}]}, timeout=30)
    httpx.get(f"{url}/{mark}/nowhere")
    httpx.post(f"{url}/v1/moderations", json={"input": text, "lang": mark})  # a bad language code: no label
    httpx.request(mark.upper(), f"{url}/v1/moderations")  # a made-up method: no label either
    body, samples = scrape(url)
    assert mark not in body.lower()
    assert ("childguard_http_requests_total", frozenset({("route", "/v1/conversations/{conversation}"),
                                                         ("method", "DELETE"), ("status", "204")})) in samples
    assert total(samples, "childguard_http_requests_total", route="unmatched") >= 1


def test_a_waiting_spool_shows_its_size_and_lag(url: str) -> None:
    services = _services_of(url)
    spool: Spool = services.recorder.spool
    made = datetime.now(UTC) - timedelta(minutes=5)
    spool.path.write_bytes(b"not a sealed line\n")  # unreadable: skipped, and left for the replay to move
    spool.append(CaseRecord(source="moderation", severity=3, age_band="10-12", lang="en", categories=["self_harm"],
                            reasons=[], created_at=made))
    try:
        _, samples = scrape(url)
        assert total(samples, "childguard_spool_cases") == 2
        assert total(samples, "childguard_spool_bytes") == spool.path.stat().st_size
        assert 295 <= total(samples, "childguard_spool_replay_lag_seconds") <= 400
        assert not spool.rejected.exists()
    finally:
        spool.path.unlink()


def _services_of(url: str) -> Any:
    return SERVED[url].state.services


def test_a_full_decision_queue_counts_its_503s() -> None:
    pool = DecisionPool(threads=1, queue=0)
    gate = threading.Event()

    async def go() -> None:
        first = asyncio.ensure_future(pool.run(gate.wait, 5))
        await asyncio.sleep(0.05)
        depth, refused = QUEUE_DEPTH._value.get(), OVERLOADED._value.get()
        with pytest.raises(OverloadedError):
            await pool.run(time.sleep, 0)
        assert OVERLOADED._value.get() == refused + 1
        gate.set()
        await first
        assert QUEUE_DEPTH._value.get() == depth - 1

    try:
        asyncio.run(go())
    finally:
        pool.shutdown()


def test_several_workers_report_one_sum(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env |= {"CHILDGUARD_DATABASE_URL": f"sqlite:///{tmp_path}/cg.db", "CHILDGUARD_KEY_FILE": str(tmp_path / "key"),
            "CHILDGUARD_SPOOL_FILE": str(tmp_path / "spool.log"), "CHILDGUARD_METRICS_DIR": str(tmp_path / "m")}
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "counter_999.db").write_bytes(b"stale")  # an earlier run's samples are cleared
    server = subprocess.Popen([sys.executable, "-m", "childguard", "serve", "--workers", "2", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        workers = 0.0
        while time.monotonic() < deadline and workers < 2:
            with contextlib.suppress(httpx.HTTPError):
                workers = total(scrape(base)[1], "childguard_worker")
            time.sleep(0.3)
        assert workers == 2, "every live worker shows in one scrape"
        for _ in range(8):  # a new connection each, spread over the workers by the kernel
            assert httpx.post(f"{base}/v1/moderations", json={"input": "hello"}, timeout=30).status_code == 200
        for _ in range(4):  # whichever worker answers the scrape reports the sum
            n = total(scrape(base)[1], "childguard_http_requests_total", route="/v1/moderations")
            assert n == 8
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_redis_health_follows_redis() -> None:
    from tests.test_conversation import _redis_up
    from tests.test_service import _serve

    if not _redis_up():
        pytest.skip("Redis not reachable at 127.0.0.1:6379")
    with TcpProxy("127.0.0.1", 6379) as proxy:
        for base in _serve(Settings(conversation_store="redis", redis_url=f"redis://127.0.0.1:{proxy.port}/0")):
            up = {("store", "redis")}
            assert scrape(base)[1][("childguard_store_up", frozenset(up))] == 1
            proxy.stop()
            assert scrape(base)[1][("childguard_store_up", frozenset(up))] == 0
            proxy.start()
            assert scrape(base)[1][("childguard_store_up", frozenset(up))] == 1
