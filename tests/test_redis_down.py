"""The service with Redis down (a stopped proxy in front of the real one): children's surfaces still
answer with the safe decision and helplines, errors keep the JSON envelope, and consent withdrawal is
all or nothing and can be sent again."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
import redis

from childguard import Settings
from childguard.testing import TcpProxy
from tests.test_conversation import _redis_up
from tests.test_service import _serve

pytestmark = pytest.mark.skipif(not _redis_up(), reason="Redis not reachable at 127.0.0.1:6379")


@pytest.fixture(scope="module")
def proxied() -> Iterator[tuple[str, TcpProxy]]:
    proxy = TcpProxy("127.0.0.1", 6379).start()
    cfg = Settings(conversation_store="redis", redis_url=f"redis://127.0.0.1:{proxy.port}/0", conversation_ttl_s=120)
    for url in _serve(cfg):
        yield url, proxy
    proxy.close()


def test_conversation_api_and_gateway_answer_safely_with_redis_down(proxied: tuple[str, TcpProxy]) -> None:
    url, proxy = proxied
    proxy.stop()
    try:
        r = httpx.post(f"{url}/v1/conversations/messages", json={
            "conversation": uuid.uuid4().hex, "sender": "k", "text": "i want to kill myself", "age": 13,
            "country": "GB"}, timeout=30)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["degraded"] and body["action"] == "escalate" and body["message_decision"]["resources"]
        chat = httpx.post(f"{url}/v1/chat/completions", json={
            "messages": [{"role": "user", "content": "i want to kill myself"}], "user": "kid-down",
            "childguard": {"age": 13, "country": "GB"}}, timeout=30)
        assert chat.status_code == 200, chat.text
        answer = chat.json()["choices"][0]["message"]["content"]
        assert "Childline" in answer and chat.json()["childguard"]["case_id"] is not None
        streamed = httpx.post(f"{url}/v1/chat/completions", json={
            "messages": [{"role": "user", "content": "i want to kill myself"}], "user": "kid-down", "stream": True,
            "childguard": {"age": 13, "country": "GB"}}, timeout=30)
        assert streamed.status_code == 200 and "Childline" in streamed.text and "[DONE]" in streamed.text
        gone = httpx.delete(f"{url}/v1/conversations/some-id", timeout=30)
        assert gone.status_code == 503 and gone.json()["error"]["code"] == "store_unavailable"
    finally:
        proxy.start()


def test_consent_withdrawal_is_all_or_nothing_and_resumable(proxied: tuple[str, TcpProxy]) -> None:
    url, proxy = proxied
    profile = f"kid-{uuid.uuid4().hex[:10]}"
    assert httpx.post(f"{url}/v1/consents", json={"profile_id": profile, "method": "card_check"}).status_code == 201
    real = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    before = set(real.keys("childguard:conv:gateway:*"))
    chat = httpx.post(f"{url}/v1/chat/completions", json={
        "messages": [{"role": "user", "content": "you are my only friend, i love you"}], "user": profile,
        "childguard": {"age": 10}}, timeout=30)
    assert chat.status_code in (200, 503)  # 503: no upstream model here; the turn was still recorded
    mine = set(real.keys("childguard:conv:gateway:*")) - before  # this child's gateway conversation
    assert len(mine) == 1
    proxy.stop()
    try:
        w = httpx.post(f"{url}/v1/consents/{profile}/withdraw", json={}, timeout=30)
        assert w.status_code == 503 and w.json()["error"]["code"] == "store_unavailable"
        assert "NOT withdrawn" in w.json()["error"]["message"]
        assert httpx.get(f"{url}/v1/consents/{profile}").json()["status"] == "granted"  # nothing half-done
        assert real.exists(*mine) == 1
    finally:
        proxy.start()
    w = httpx.post(f"{url}/v1/consents/{profile}/withdraw", json={}, timeout=30)
    assert w.status_code == 200 and w.json()["complete"]
    assert httpx.get(f"{url}/v1/consents/{profile}").json()["status"] == "withdrawn"
    assert real.exists(*mine) == 0  # the conversation state went with it
    again = httpx.post(f"{url}/v1/consents/{profile}/withdraw", json={}, timeout=30)
    assert again.status_code == 200  # safe to repeat
