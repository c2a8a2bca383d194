"""Conversation state under parallel messages (memory and Redis, two workers sharing Redis), and with
Redis down behind a stopped proxy: the child still gets the safe answer and helplines."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from childguard import Guard
from childguard.conversation import ConversationDecision, ConversationGuard, MemoryStateStore, RedisStateStore
from childguard.errors import StoreUnavailableError
from childguard.policy import Action
from childguard.testing import TcpProxy
from tests.test_conversation import _redis_up

needs_redis = pytest.mark.skipif(not _redis_up(), reason="Redis not reachable at 127.0.0.1:6379")
HOSTILE = ["nobody wants you in our group", "you're so ugly, nobody likes you", "everyone hates you, just leave",
           "you're a fat loser"]


def _workers(kind: str, guard: Guard) -> list[ConversationGuard]:
    """Two workers: with Redis, two stores (two processes' worth of connections) on one key prefix."""
    if kind == "memory":
        cg = ConversationGuard(guard, MemoryStateStore())
        return [cg, cg]
    prefix = f"cgtest:{uuid.uuid4().hex}:"
    return [ConversationGuard(guard, RedisStateStore(prefix=prefix, ttl_s=120)) for _ in range(2)]


def _send_at_once(workers: list[ConversationGuard], messages: list[dict[str, object]]) -> list[ConversationDecision]:
    start = threading.Barrier(len(messages))

    def send(i: int) -> ConversationDecision:
        start.wait()
        return workers[i % 2].observe(messages[i])

    with ThreadPoolExecutor(max_workers=len(messages)) as pool:
        return list(pool.map(send, range(len(messages))))


@pytest.mark.parametrize("kind", ["memory", pytest.param("redis", marks=needs_redis)])
def test_fifty_parallel_messages_are_fifty_turns(kind: str, guard: Guard) -> None:
    workers = _workers(kind, guard)
    cid = uuid.uuid4().hex
    results = _send_at_once(workers, [{"conversation": cid, "sender": f"s{i}", "role": "contact",
                                       "text": "what did you think of the maths homework?", "age": 12}
                                      for i in range(50)])
    assert sorted(r.turn for r in results) == list(range(1, 51))
    state = workers[0].store.load(cid)
    assert state is not None and state.turns == 50
    workers[0].forget(cid)


@pytest.mark.parametrize("kind", ["memory", pytest.param("redis", marks=needs_redis)])
def test_four_hostile_messages_at_once_are_ganging_up_every_time(kind: str, guard: Guard) -> None:
    workers = _workers(kind, guard)
    hits = 0
    for _ in range(20):
        cid = uuid.uuid4().hex
        results = _send_at_once(workers, [{"conversation": cid, "sender": f"kid{i}", "role": "contact",
                                           "text": text, "age": 12, "target": "sam"}
                                          for i, text in enumerate(HOSTILE)])
        hits += any(f.kind == "ganging_up" for r in results for f in r.findings)
        workers[0].forget(cid)
    assert hits == 20


@pytest.fixture
def redis_proxy() -> Iterator[TcpProxy]:
    proxy = TcpProxy("127.0.0.1", 6379).start()
    yield proxy
    proxy.close()


@needs_redis
def test_redis_down_still_gives_the_safe_answer(redis_proxy: TcpProxy, guard: Guard) -> None:
    store = RedisStateStore(f"redis://127.0.0.1:{redis_proxy.port}/0", prefix=f"cgtest:{uuid.uuid4().hex}:",
                            ttl_s=120, timeout_s=0.5)
    cg = ConversationGuard(guard, store)
    cid = uuid.uuid4().hex
    assert cg.observe({"conversation": cid, "sender": "k", "text": "hi", "age": 12}).turn == 1
    redis_proxy.stop()
    d = cg.observe({"conversation": cid, "sender": "k", "text": "i want to kill myself", "age": 12, "country": "GB"})
    assert d.degraded and d.action is Action.ESCALATE and d.review_required
    assert d.message_decision.resources and d.message_decision.message
    with pytest.raises(StoreUnavailableError):
        cg.forget(cid)
    redis_proxy.start()
    back = cg.observe({"conversation": cid, "sender": "k", "text": "thanks", "age": 12})
    assert not back.degraded and back.turn == 2
    cg.forget(cid)
