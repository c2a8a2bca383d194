"""The service under load and faults: a huge request does not freeze the others, a full decision pool
answers 503 at once, a request over the character budget gets 413, strings that cannot be encoded are
refused before anything echoes them, and /readyz names the store that is down."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from childguard import Guard, Settings
from childguard.service import create_app
from childguard.store import Store
from tests.test_service import _serve

ARABIC = "أنا أحب المدرسة وأصدقائي ونلعب كرة القدم بعد الظهر في الحديقة "  # ordinary, long text: CPU only


def _settings(tmp: Path, **extra: object) -> Settings:
    return Settings(rate_limit_per_minute=10**7, rate_limit_burst=10**6, report_burst=10**6, key_file=tmp / "key",
                    spool_file=tmp / "spool.log", database_url=f"sqlite:///{tmp}/cg.db", **extra)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A service with one decision worker and no queue: the second concurrent request finds it full."""
    yield from _serve(_settings(tmp_path_factory.mktemp("one"), cpu_threads=1, cpu_queue=0))


def _big_request() -> dict[str, object]:
    return {"input": [(ARABIC * 2000)[:50_000]] * 4, "age": 12}  # 200,000 characters: the default budget


async def _during_big_request(base: str, probe: str, body: dict[str, object] | None = None
                              ) -> tuple[httpx.Response, list[tuple[float, httpx.Response]]]:
    """Send the big request, and while it is being classified send `probe` again and again."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        big = asyncio.create_task(client.post("/v1/moderations", json=_big_request()))
        for _ in range(200):  # wait until it is in the decision pool (parsing 200,000 characters takes a while)
            if (await client.get("/healthz")).json()["decisions_in_flight"]:
                break
            await asyncio.sleep(0.02)
        answers = []
        while not big.done() and len(answers) < 20:
            t0 = time.perf_counter()
            r = await (client.post(probe, json=body) if body is not None else client.get(probe))
            answers.append((time.perf_counter() - t0, r))
            await asyncio.sleep(0.05)
        return await big, answers


def test_healthz_answers_fast_while_a_huge_request_is_classified(one_worker: str) -> None:
    big, answers = asyncio.run(_during_big_request(one_worker, "/healthz"))
    assert big.status_code == 200 and len(big.json()["results"]) == 4
    # concurrency, not timing, is the point: several health answers came back while the big one ran
    assert len(answers) >= 3, "the big request finished before health could be asked: not concurrent"
    assert all(r.status_code == 200 and r.json()["decisions_in_flight"] == 1 for _, r in answers)
    # a frozen loop would hold each health answer for most of the big request; the bound is relative
    # so a loaded shared machine does not fail it (measured here: 2-14 ms, target 100 ms)
    slowest, big_s = max(t for t, _ in answers), big.elapsed.total_seconds()
    assert slowest < 0.3 * big_s, f"/healthz took {slowest * 1000:.0f} ms during a {big_s:.1f} s request"


def test_a_full_decision_pool_answers_503_with_retry_after(one_worker: str) -> None:
    big, answers = asyncio.run(_during_big_request(one_worker, "/v1/moderations", {"input": "hello", "age": 9}))
    assert big.status_code == 200 and answers
    r = answers[0][1]
    assert r.status_code == 503 and int(r.headers["retry-after"]) >= 1
    assert r.json()["error"]["code"] == "overloaded"
    assert httpx.post(f"{one_worker}/v1/moderations", json={"input": "hello", "age": 9}).status_code == 200


def test_a_childs_report_is_never_turned_away_for_load(one_worker: str) -> None:
    report = {"kind": "bullying", "message": "they keep laughing at me", "country": "GB"}
    big, answers = asyncio.run(_during_big_request(one_worker, "/v1/reports", report))
    assert big.status_code == 200 and answers
    assert all(r.status_code == 201 and r.json()["recorded"] == "stored" for _, r in answers)


def test_a_request_over_the_character_budget_gets_413(one_worker: str) -> None:
    r = httpx.post(f"{one_worker}/v1/moderations", json={"input": ["a" * 80_000] * 3})
    assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large"
    assert "200000" in r.json()["error"]["message"]
    long_chat = {"messages": [{"role": "user", "content": "b" * 90_000}] * 3}
    r = httpx.post(f"{one_worker}/v1/chat/completions", json=long_chat)
    assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large"


# -- strings ------------------------------------------------------------------------------------------

SURROGATE = "\\ud800"  # as it travels in JSON: an escaped lone surrogate


@pytest.mark.parametrize(("path", "raw"), [
    ("/v1/moderations", '{"input": "hi", "model": "%s"}'),
    ("/v1/moderations", '{"input": "hi", "lang": "%s"}'),
    ("/v1/moderations", '{"input": "hi", "profile": "kid%s"}'),
    ("/v1/chat/completions", '{"model": "%s", "messages": [{"role": "user", "content": "hi"}]}'),
    ("/v1/chat/completions",
     '{"messages": [{"role": "assistant", "content": "x%s"}, {"role": "user", "content": "hi"}]}'),
    ("/v1/conversations/messages", '{"conversation": "c1", "sender": "%s", "text": "hi"}'),
    ("/v1/reports", '{"kind": "bullying", "contact": "%s"}'),
    ("/v1/consents", '{"profile_id": "p1", "method": "signed_form", "%s": 1}'),
])
def test_lone_surrogates_in_any_field_are_a_422_not_a_crash(one_worker: str, path: str, raw: str) -> None:
    r = httpx.post(f"{one_worker}{path}", content=(raw % SURROGATE).encode(),
                   headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "invalid_input"


def test_overlong_identifiers_are_refused(one_worker: str) -> None:
    r = httpx.post(f"{one_worker}/v1/moderations", json={"input": "hi", "model": "m" * 5000})
    assert r.status_code == 422 and "model" in r.json()["error"]["message"]
    assert httpx.get(f"{one_worker}/v1/reports/{'A' * 500}").status_code == 422


def test_readyz_reports_the_store_it_reached(one_worker: str) -> None:
    r = httpx.get(f"{one_worker}/readyz")
    assert r.status_code == 200 and r.json()["stores"] == {"database": "up", "spool": "empty"}


def test_readyz_names_redis_when_it_is_down(tmp_path: Path, guard: Guard) -> None:
    from childguard.testing import TcpProxy

    async def ready(app: FastAPI) -> tuple[float, httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cg") as client:
            t0 = time.perf_counter()
            r = await client.get("/readyz")
            return time.perf_counter() - t0, r

    with TcpProxy("127.0.0.1", 6379) as proxy:
        cfg = _settings(tmp_path, conversation_store="redis", redis_url=f"redis://127.0.0.1:{proxy.port}/0")
        app = create_app(cfg, guard=guard, store=Store(cfg))
        assert asyncio.run(ready(app))[1].json()["stores"]["redis"] == "up"
        proxy.stall()
        time.sleep(app.state.services.readiness.max_age_s)  # a "ready" is served from cache this long (item 6)
        took, r = asyncio.run(ready(app))
        assert took < 1.2
        assert r.status_code == 503 and r.json()["stores"]["redis"].startswith("down")
        assert r.json()["stores"]["database"] == "up" and "redis" in r.json()["error"]["message"]
        proxy.resume()


def test_error_messages_that_quote_bad_input_stay_encodable() -> None:
    from childguard.service.responses import error_response

    body = json.loads(error_response(422, "invalid_input", "bad: \ud800").body)
    assert body["error"]["message"] == "bad: \\ud800"


def test_serve_with_several_workers_shares_one_port_and_one_store(tmp_path: Path) -> None:
    import os
    import socket
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "CHILDGUARD_DATABASE_URL": f"sqlite:///{tmp_path}/cg.db",
           "CHILDGUARD_KEY_FILE": str(tmp_path / "key"), "CHILDGUARD_SPOOL_FILE": str(tmp_path / "spool.log")}
    server = subprocess.Popen([sys.executable, "-m", "childguard", "serve", "--workers", "2", "--port", str(port)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        assert len(children) >= 2, "expected two worker processes behind the port"
        for _ in range(6):
            r = httpx.post(f"{base}/v1/moderations", json=ESCALATING_INPUT, timeout=30)
            assert r.status_code == 200 and r.json()["results"][0]["recorded"] == "stored"
        store = Store(Settings(key_file=tmp_path / "key"), f"sqlite:///{tmp_path}/cg.db")
        assert len(store.queue()) == 6
    finally:
        server.terminate()
        server.wait(timeout=30)


ESCALATING_INPUT = {"input": "i want to kill myself", "age": 13}
