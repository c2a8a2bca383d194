"""Store and Redis calls never hold a decision worker without the store budget (issue 18, item 2): a
locked database or a paused Redis used to block both decision workers per child message, and children's
reports and moderations then timed out at 25-60 s."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Iterator
from typing import Any

import httpx
import pytest

from childguard import Guard
from childguard.conversation.monitor import ConversationGuard, build_store
from childguard.conversation.state import ConversationState, MemoryStateStore, Step
from childguard.conversation.state_budget import BudgetedStateStore
from childguard.settings import Settings
from childguard.store.contests import Contests
from childguard.testing import TcpProxy
from tests.test_age_signals import _Provider
from tests.test_conversation import _redis_up
from tests.test_service import _serve

BLOCKED = "where can i watch porn? call me on 07700 900123"


class PausedStore(MemoryStateStore):
    """A Redis that accepts connections and never answers."""

    def load(self, conversation: str) -> ConversationState | None:
        time.sleep(5)
        return None

    def update(self, conversation: str, step: Step[Any]) -> tuple[ConversationState, Any]:
        time.sleep(5)
        raise AssertionError("unreachable")


def test_a_paused_state_store_costs_one_budget_then_fails_fast() -> None:
    cg = ConversationGuard(Guard(), BudgetedStateStore(PausedStore(), timeout_s=0.3, open_s=30))
    msg = {"conversation": "c1", "sender": "k", "role": "child", "text": "i want to kill myself", "age": 12}
    t0 = time.perf_counter()
    first = cg.observe(msg)
    took_first = time.perf_counter() - t0
    t0 = time.perf_counter()
    second = cg.observe({**msg, "conversation": "c2"})
    took_second = time.perf_counter() - t0
    assert first.degraded and second.degraded and first.message_decision.resources  # the safe answer stands
    assert took_first < 1.5 and took_second < 0.3, (took_first, took_second)


def test_redis_state_gets_the_store_budget() -> None:
    store = build_store(Settings(conversation_store="redis", store_timeout_s=0.7))
    assert isinstance(store, BudgetedStateStore) and store.timeout_s == 0.7


@pytest.fixture()
def served_slow_tokens(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    def hung(self: Contests, *args: Any, **kwargs: Any) -> str | None:
        time.sleep(4)  # a locked SQLite
        return None

    monkeypatch.setattr(Contests, "issue", hung)
    yield from _serve(Settings(rate_limit_per_minute=10**6, rate_limit_burst=10**6, cpu_threads=2,
                               store_timeout_s=0.5))


def _moderation_while(url: str, chats: list[dict[str, object]], settle_s: float
                      ) -> tuple[list[httpx.Response], float]:
    """Send the conversation messages, wait until they are held, then time one moderation: the
    moderation's answer first, then the messages' answers, and how long the moderation took."""
    async def run() -> tuple[list[httpx.Response], float]:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            sent = [asyncio.create_task(client.post("/v1/conversations/messages", json=c)) for c in chats]
            await asyncio.sleep(settle_s)
            t0 = time.perf_counter()
            moderation = await client.post("/v1/moderations", json={"input": "how do volcanoes work?", "age": 11})
            took = time.perf_counter() - t0
            return [moderation, *await asyncio.gather(*sent)], took

    return asyncio.run(run())


def test_hung_token_writes_do_not_hold_the_decision_workers(served_slow_tokens: str) -> None:
    url = served_slow_tokens

    chats = [{"conversation": f"c{i}", "sender": "kid", "role": "child", "text": BLOCKED, "age": 11} for i in range(2)]
    responses, took = _moderation_while(url, chats, settle_s=0.3)  # both child messages in their token write
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    assert took < 1.0, took  # main: waits for a decision worker until the token writes end (4 s)
    assert all(r.json()["message_decision"]["contest_token"] is None for r in responses[1:])


@pytest.fixture()
def served_stalled_redis() -> Iterator[tuple[str, TcpProxy]]:
    """Redis behind a proxy that holds connections and forwards nothing (a paused Redis); a store budget
    longer than the 1 s the other requests get, so a worker held for it shows."""
    if not _redis_up():
        pytest.skip("Redis not reachable at 127.0.0.1:6379")
    proxy = TcpProxy("127.0.0.1", 6379).start()
    cfg = Settings(conversation_store="redis", redis_url=f"redis://127.0.0.1:{proxy.port}/0", conversation_ttl_s=120,
                   rate_limit_per_minute=10**6, rate_limit_burst=10**6, cpu_threads=2, store_timeout_s=2.5)
    try:
        yield from ((url, proxy) for url in _serve(cfg))
    finally:
        proxy.close()


BLOCKED_ON_REDIS = 10  # the store has 8 threads by default


def _blocked_on_redis(client: httpx.AsyncClient, path: str) -> Awaitable[httpx.Response]:
    text = "i want to kill myself"
    if path == "gateway":  # a profile: the gateway keeps the child's conversation state in Redis too
        return client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": text}],
                                                        "user": f"kid-{uuid.uuid4().hex[:8]}",
                                                        "childguard": {"age": 11, "country": "GB"}})
    return client.post("/v1/conversations/messages", json={"conversation": f"paused-{uuid.uuid4().hex}",
                                                           "sender": "kid", "role": "child", "text": text,
                                                           "age": 11, "country": "GB"})


@pytest.mark.parametrize("path", ["conversation", "gateway"])
def test_paused_redis_does_not_hold_the_decision_workers(served_stalled_redis: tuple[str, TcpProxy],
                                                         path: str) -> None:
    url, proxy = served_stalled_redis
    proxy.stall()

    async def run() -> tuple[list[httpx.Response], list[float]]:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            # more blocked messages than the store has threads: the database's case writes must not queue
            chats = [asyncio.ensure_future(_blocked_on_redis(client, path)) for _ in range(BLOCKED_ON_REDIS)]
            await asyncio.sleep(0.4)  # the child messages are now waiting on Redis
            took = []
            t0 = time.perf_counter()
            moderation = await client.post("/v1/moderations", json={"input": "how do volcanoes work?", "age": 11})
            took.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            report = await client.post("/v1/reports", json={"kind": "bullying", "message": "they are mean to me",
                                                            "age": 11})
            took.append(time.perf_counter() - t0)
            return [moderation, report, *await asyncio.gather(*chats)], took

    try:
        responses, took = asyncio.run(run())
    finally:
        proxy.resume()
    assert [r.status_code for r in responses] == [200, 201] + [200] * BLOCKED_ON_REDIS, [r.text for r in responses]
    assert max(took) < 1.0, took  # main: both decision workers wait on Redis for the store budget (2.5 s)
    assert responses[1].json()["recorded"] == "stored"  # not spooled for want of a database thread
    for chat in responses[2:]:  # the paused state store costs the context, never the safe answer
        body = chat.json()
        if path == "gateway":
            assert "Childline" in body["choices"][0]["message"]["content"] and body["childguard"]["case_id"]
        else:
            assert body["degraded"] and body["action"] == "escalate" and body["message_decision"]["resources"]


@pytest.fixture()
def served_slow_webhook() -> Iterator[str]:
    provider = _Provider()
    provider.delay = 3.0  # an age-assurance provider that answers late
    cfg = Settings(rate_limit_per_minute=10**6, rate_limit_burst=10**6, cpu_threads=2, age_signal_mode="verify",
                   age_assurance_url=provider.url, age_assurance_timeout_s=4)
    try:
        yield from _serve(cfg)
    finally:
        provider.close()


def test_a_slow_age_assurance_webhook_does_not_hold_the_decision_workers(served_slow_webhook: str) -> None:
    chats = [{"conversation": uuid.uuid4().hex, "sender": "kid", "role": "child", "age": "adult",
              "profile": f"kid-{i}", "text": "where can i watch porn? im 12"} for i in range(2)]
    responses, took = _moderation_while(served_slow_webhook, chats, settle_s=0.6)  # both wait for the provider
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    assert took < 1.0, took  # main: both decision workers wait for the webhook (3 s)
    for chat in responses[1:]:  # the provider confirmed: the message is decided again in the younger band
        body = chat.json()
        assert body["age_check"] == "confirmed" and body["message_decision"]["age_band"] == "10-12"
        assert body["action"] == "block"
