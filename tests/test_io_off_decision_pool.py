"""Store and Redis calls never hold a decision worker without the store budget (issue 18, item 2): a
locked database or a paused Redis used to block both decision workers per child message, and children's
reports and moderations then timed out at 25-60 s."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from childguard import Guard
from childguard.conversation.monitor import ConversationGuard, build_store
from childguard.conversation.state import ConversationState, MemoryStateStore, Step
from childguard.conversation.state_budget import BudgetedStateStore
from childguard.settings import Settings
from childguard.store.contests import Contests
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


def test_hung_token_writes_do_not_hold_the_decision_workers(served_slow_tokens: str) -> None:
    url = served_slow_tokens

    async def run() -> tuple[list[httpx.Response], float]:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            chats = [asyncio.create_task(client.post("/v1/conversations/messages", json={
                "conversation": f"c{i}", "sender": "kid", "role": "child", "text": BLOCKED, "age": 11}))
                for i in range(2)]
            await asyncio.sleep(0.3)  # both child messages are now in their token write
            t0 = time.perf_counter()
            moderation = await client.post("/v1/moderations", json={"input": "how do volcanoes work?", "age": 11})
            took = time.perf_counter() - t0
            return [moderation, *await asyncio.gather(*chats)], took

    responses, took = asyncio.run(run())
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    assert took < 1.0, took  # main: waits for a decision worker until the token writes end (4 s)
    assert all(r.json()["message_decision"]["contest_token"] is None for r in responses[1:])
