"""One hanging upstream must not starve every child (issue 18 item 4): first-byte and total timeouts,
a per-client share of the upstream connections, and a kind answer for the child when the model fails."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from childguard import Settings
from tests.test_gateway import last_chunk, streamed_text
from tests.test_service import _serve
from tests.upstream_stub import Reply, last_user_text, upstream


def script(body: dict[str, Any]) -> Reply:
    text = last_user_text(body)
    if "hang" in text:
        return Reply(hang_s=60)
    if "trickle" in text:  # never pauses long, never ends
        return Reply("la " * 1000, pause_s=0.2)
    return Reply("Plants make food from light.")


@pytest.fixture(scope="module")
def gateway() -> Iterator[str]:
    with upstream(script) as url:
        yield from _serve(Settings(upstream_url=url, api_keys=["key-a", "key-b"], upstream_first_byte_timeout_s=0.5,
                                   upstream_timeout_s=2.0, upstream_max_connections=8, upstream_client_share=0.5))


def body(text: str, stream: bool = False) -> dict[str, Any]:
    return {"model": "m", "stream": stream, "childguard": {"age": 11},
            "messages": [{"role": "user", "content": text}]}


async def _flood_and_chat(base: str) -> tuple[list[httpx.Response], float, httpx.Response]:
    async with httpx.AsyncClient(timeout=30) as client:
        hung = [asyncio.create_task(client.post(f"{base}/v1/chat/completions", json=body("please hang", stream=True),
                                                headers={"Authorization": "Bearer key-a"})) for _ in range(12)]
        await asyncio.sleep(0.2)  # the flood holds its share now
        start = time.perf_counter()
        other = await client.post(f"{base}/v1/chat/completions", json=body("what is photosynthesis?"),
                                  headers={"Authorization": "Bearer key-b"})
        took = time.perf_counter() - start
        return list(await asyncio.gather(*hung)), took, other


def test_a_hanging_upstream_costs_other_clients_nothing(gateway: str) -> None:
    hung, took, other = asyncio.run(_flood_and_chat(gateway))
    assert other.status_code == 200 and "Plants make food" in other.json()["choices"][0]["message"]["content"]
    assert took < 1.0
    errors = [last_chunk(r)["childguard"]["upstream_error"] for r in hung]
    assert errors.count("upstream_timeout") == 4  # its share (8 x 0.5) waited for the first byte, then gave up
    assert errors.count("upstream_busy") == 8  # the rest were answered at once
    assert all("try again in a little while" in streamed_text(r) for r in hung)


def test_first_byte_and_total_timeouts_answer_the_child_kindly(gateway: str) -> None:
    auth = {"Authorization": "Bearer key-a"}
    start = time.perf_counter()
    r = httpx.post(f"{gateway}/v1/chat/completions", json=body("please hang"), headers=auth, timeout=30)
    assert 1.8 < time.perf_counter() - start < 3.5  # a plain answer comes whole: the total bound applies
    assert r.status_code == 504 and r.json()["error"]["code"] == "upstream_error"
    assert r.json()["child_message"].startswith("Sorry, I can't answer right now")
    assert "127.0.0.1" not in r.text
    start = time.perf_counter()
    h = httpx.post(f"{gateway}/v1/chat/completions", json=body("please hang", stream=True), headers=auth, timeout=30)
    assert time.perf_counter() - start < 1.5  # streaming: no first byte within 0.5 s
    assert last_chunk(h)["childguard"]["upstream_error"] == "upstream_timeout"
    start = time.perf_counter()
    s = httpx.post(f"{gateway}/v1/chat/completions", json=body("trickle forever", stream=True), headers=auth,
                   timeout=30)
    assert 1.8 < time.perf_counter() - start < 3.5  # the total bound, though no pause was ever long
    assert last_chunk(s)["childguard"]["upstream_error"] == "upstream_timeout"
    assert "try again" in streamed_text(s)


def test_over_its_share_a_client_gets_429_with_retry_after(gateway: str) -> None:
    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=30) as client:
            return list(await asyncio.gather(*(client.post(
                f"{gateway}/v1/chat/completions", json=body("please hang"), headers={"Authorization": "Bearer key-b"})
                for _ in range(6))))

    responses = asyncio.run(run())
    assert sorted(r.status_code for r in responses) == [429, 429, 504, 504, 504, 504]
    busy = [r for r in responses if r.status_code == 429]
    assert all(r.headers["Retry-After"] == "1" and r.json()["error"]["code"] == "upstream_busy" for r in busy)


def test_the_start_banner_names_the_upstream_without_its_credentials(tmp_path: Any, monkeypatch: Any) -> None:
    import io

    import uvicorn

    from childguard.cli import main
    from childguard.settings import get_settings

    for name, value in {"UPSTREAM_URL": "https://bob:s3cret@llm.internal:8443/v1", "UPSTREAM_MODEL": "tiny",
                        "DATABASE_URL": f"sqlite:///{tmp_path}/cg.db", "KEY_FILE": str(tmp_path / "key"),
                        "SPOOL_FILE": str(tmp_path / "spool.log")}.items():
        monkeypatch.setenv(f"CHILDGUARD_{name}", value)
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: None)
    get_settings.cache_clear()
    out = io.StringIO()
    try:
        assert main(["serve"], out) == 0
    finally:
        get_settings.cache_clear()
    banner = out.getvalue()
    assert "upstream model: https://llm.internal:8443/v1 (model: tiny" in banner and "s3cret" not in banner
