"""The time of each turn that moved a grooming stage is kept in the conversation state (UTC, to the
second, and nothing else about the turn), in memory and in Redis, and the findings carry it, so the
case view can say when each stage was first seen and not only at which turn (4i, 5b)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from childguard import Settings
from childguard.conversation import ConversationGuard, MemoryStateStore, RedisStateStore, StateStore
from tests.test_console_threads import GROOMING
from tests.test_conversation import _redis_up


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[StateStore]:
    if request.param == "memory":
        yield MemoryStateStore()
        return
    if not _redis_up():
        pytest.skip("Redis not reachable at 127.0.0.1:6379")
    yield RedisStateStore(ttl_s=120, prefix=f"cg-test-{uuid.uuid4().hex[:8]}:")


def _local(i: int) -> str:  # a local offset and microseconds: neither may be kept
    return f"2026-03-01T18:{i:02d}:07.654321+02:00"


def test_the_turns_that_moved_a_stage_keep_their_utc_second(store: StateStore) -> None:
    guard = ConversationGuard(settings=Settings(), store=store)
    cid = f"chat-{uuid.uuid4().hex[:8]}"
    results = [guard.observe({"conversation": cid, "sender": sender, "role": role, "text": text, "age": 11,
                              "time": _local(i)}) for i, (role, sender, text) in enumerate(GROOMING)]
    trajectory = next(f for f in results[-1].findings if f.kind == "grooming_trajectory")
    assert len(trajectory.moved) >= 3
    assert [m.turn for m in trajectory.moved] == sorted(m.turn for m in trajectory.moved)
    for m in trajectory.moved:
        assert f"turn {m.turn}: " in " ".join(trajectory.evidence)
        assert m.time == datetime(2026, 3, 1, 16, m.turn - 1, 7, tzinfo=UTC)  # turn n was sent at minute n-1
    assert {m.turn for m in trajectory.moved} >= {5, 9, 10}  # age question, platform move, secrecy
    state = store.load(cid)
    assert state is not None
    # only the turns that moved a stage, each as whole UTC seconds: no offset, no text, no other turn
    moved_turns = {t for stages in state.grooming.values() for t in stages.values()}
    assert set(state.moved_at) == {str(t) for t in moved_turns}
    assert all(isinstance(v, int) for v in state.moved_at.values())
    assert state.moved_at["5"] == int(datetime(2026, 3, 1, 16, 4, 7, tzinfo=UTC).timestamp())


def test_a_state_saved_before_times_were_kept_still_loads() -> None:
    from childguard.conversation import ConversationState

    old = '{"started":1.0,"last":2.0,"turns":3,"session_start":1.0,"grooming":{"m":{"personal_questions":2}},' \
          '"hostility":[],"counters":{},"first_seen":{},"escalated":{},"age_band":null,"age_asked":null}'
    state = ConversationState.from_json(old)
    assert state.moved_at == {} and state.grooming == {"m": {"personal_questions": 2}}
    assert ConversationState.from_json(old[:-1] + ',"added_later":{"x":1}}').turns == 3  # a newer worker's field
    store = MemoryStateStore()
    store.save("c", state)
    guard = ConversationGuard(settings=Settings(), store=store)
    result = guard.observe({"conversation": "c", "sender": "m", "role": "contact", "age": 11,
                            "text": "let's chat on snapchat instead, and don't tell your parents"})
    moved = {m.turn: m.time for f in result.findings for m in f.moved}
    assert moved[2] is None and moved[4] is not None  # the old turn has no time; the new one has
