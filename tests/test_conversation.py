"""Conversation-level protection: trajectories, repetition, attachment; bounded, text-free state."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from childguard import Action, InvalidInputError, Settings
from childguard.conversation import ConversationGuard, ConversationState, MemoryStateStore, RedisStateStore
from childguard.conversation.evaluation import evaluate_conversations, load_conversations
from childguard.conversation.state import HostileEvent
from childguard.conversation.state_budget import BudgetedStateStore

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cg() -> ConversationGuard:
    return ConversationGuard()


def talk(cg: ConversationGuard, turns: list[tuple[str, str, str]], age: int = 11, **extra: object) -> list:
    cid = uuid.uuid4().hex
    return [cg.observe({"conversation": cid, "sender": s, "role": r, "text": t, "age": age, **extra})
            for r, s, t in turns]


GROOMING = [
    ("contact", "m", "gg, that was a great round"),
    ("child", "k", "thanks!"),
    ("contact", "m", "how old are you?"),
    ("contact", "m", "i can gift you robux if you want"),
    ("contact", "m", "let's chat on snapchat instead"),
    ("contact", "m", "send me a pic of you"),
]


def test_grooming_escalates_early_with_stages_as_reasons(cg: ConversationGuard) -> None:
    results = talk(cg, GROOMING)
    first = next(i for i, d in enumerate(results) if any(f.kind == "grooming_trajectory" for f in d.findings))
    assert first <= 4  # before the image request at turn 6
    finding = next(f for f in results[first].findings if f.kind == "grooming_trajectory")
    assert finding.action is Action.ESCALATE and results[first].review_required
    joined = " ".join(finding.evidence)
    assert "game currency" in joined and "private app" in joined
    assert "snapchat" not in joined  # evidence names stages, never message text
    assert finding.since_turn == 3


def test_obfuscated_grooming_in_another_language_is_tracked(cg: ConversationGuard) -> None:
    res = talk(cg, [("contact", "m", "tu es très mature pour ton âge"),
                    ("contact", "m", "n3 d1s r13n à t3s p4r3nts"),
                    ("contact", "m", "tu es seule à la maison ?")], age=12)
    finding = next(f for f in res[-1].findings if f.kind == "grooming_trajectory")
    assert "secrecy and isolation from parents" in " ".join(finding.evidence)
    assert res[1].message_decision.obfuscations


def test_state_keeps_no_message_text(cg: ConversationGuard) -> None:
    cid = uuid.uuid4().hex
    for r, s, t in GROOMING:
        cg.observe({"conversation": cid, "sender": s, "role": r, "text": t, "age": 11})
    state = cg.store.load(cid)
    assert state is not None and state.turns == len(GROOMING)
    payload = state.to_json()
    assert all(t not in payload for _, _, t in GROOMING)
    cg.forget(cid)
    assert cg.store.load(cid) is None


def test_one_insult_is_not_bullying_but_repetition_is(cg: ConversationGuard) -> None:
    once = talk(cg, [("contact", "a", "you're so annoying today")], age=12)
    assert not any(f.kind in ("harassment", "ganging_up") for f in once[0].findings)
    repeated = talk(cg, [("contact", "a", "you're so ugly, nobody likes you"), ("contact", "a", "everyone hates you"),
                         ("contact", "a", "you're a fat loser")], age=12)
    assert any(f.kind == "harassment" for f in repeated[-1].findings)
    assert repeated[-1].action is Action.ESCALATE


def test_several_senders_ganging_up(cg: ConversationGuard) -> None:
    res = talk(cg, [("contact", "a", "nobody wants you in our group"), ("contact", "b", "you're so ugly"),
                    ("contact", "c", "everyone hates you, just leave")], age=12)
    assert any(f.kind == "ganging_up" for f in res[-1].findings)


def test_mutual_banter_is_not_escalated(cg: ConversationGuard) -> None:
    res = talk(cg, [("child", "k", "you're so dumb lol you missed the easiest goal"),
                    ("contact", "f", "haha says you, you fell over twice 😂")], age=13)
    assert all(d.action is not Action.ESCALATE for d in res)


def test_dependency_nudges_in_the_childs_language(cg: ConversationGuard) -> None:
    res = talk(cg, [("child", "k", "tu es mon seul ami, je n'ai besoin de personne d'autre"),
                    ("child", "k", "je t'aime, ne me quitte jamais")], age=12)
    last = res[-1]
    assert any(f.kind == "emotional_dependency" for f in last.findings)
    # changed (issue 20): "I'm an AI, not a person" is said once, by the message or by the nudge, not both
    said = [t for t in (last.message_decision.message, last.nudge) if t and "IA" in t]
    assert len(said) == 1


def test_late_nights_and_long_sessions_nudge_once(cg: ConversationGuard) -> None:
    cid = uuid.uuid4().hex
    start = datetime(2026, 11, 20, 23, 0, tzinfo=UTC)
    kinds = []
    for i in range(14):
        d = cg.observe({"conversation": cid, "sender": "k", "role": "child", "text": "tell me about space",
                        "age": 12, "time": (start + timedelta(minutes=12 * i)).isoformat()})
        kinds.append([f.kind for f in d.findings])
    late = [i + 1 for i, k in enumerate(kinds) if "late_night" in k]
    assert late == [3, 10]  # the third late message, then every tenth: a nudge, not nagging
    assert sum("long_session" in k for k in kinds) == 1


def test_ai_output_encouraging_attachment_is_replaced(cg: ConversationGuard) -> None:
    res = talk(cg, [("ai_output", "bot", "I love you too, you don't need other friends, only me")], age=10)
    assert res[0].action is Action.BLOCK
    assert any(f.kind == "ai_encourages_dependency" for f in res[0].findings)


@pytest.mark.parametrize("bad", [{"sender": "a", "text": "hi"}, {"conversation": "", "sender": "a", "text": "x"},
                                 {"conversation": "c", "sender": "a", "text": "x", "time": "yesterday"},
                                 {"conversation": "c", "sender": "a", "text": "x", "role": "robot"}])
def test_bad_messages_are_typed_errors(cg: ConversationGuard, bad: dict) -> None:
    with pytest.raises(InvalidInputError):
        cg.observe(bad)


def test_memory_store_is_bounded_in_count_and_time(monkeypatch: pytest.MonkeyPatch) -> None:
    store = MemoryStateStore(max_conversations=3, ttl_s=60)
    for i in range(5):
        store.save(f"c{i}", ConversationState(turns=i))
    assert len(store) == 3 and store.load("c0") is None and store.load("c4") is not None
    import childguard.conversation.state as state_mod

    real = state_mod.time.monotonic
    monkeypatch.setattr(state_mod.time, "monotonic", lambda: real() + 61)
    assert store.load("c4") is None


def test_hostility_events_are_bounded() -> None:
    s = ConversationState()
    for i in range(500):
        s.add_event(HostileEvent("a", "child", float(i), i), window_s=10_000)
    assert len(s.hostility) <= 100
    s.add_event(HostileEvent("a", "child", 100_000.0, 501), window_s=60)
    assert len(s.hostility) == 1  # older events left the window


def _redis_up() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_timeout=0.5).ping())
    except Exception:
        return False


@pytest.mark.skipif(not _redis_up(), reason="Redis not reachable at 127.0.0.1:6379")
def test_redis_store_shares_state_between_workers() -> None:
    settings = Settings(conversation_store="redis", conversation_ttl_s=120)
    worker_a, worker_b = ConversationGuard(settings=settings), ConversationGuard(settings=settings)
    # Redis calls get the store budget and a breaker (issue 18, item 2)
    assert isinstance(worker_a.store, BudgetedStateStore) and isinstance(worker_a.store.inner, RedisStateStore)
    cid = f"test-{uuid.uuid4().hex}"
    turns = [("contact", "m", "how old are you?"), ("contact", "m", "i can gift you robux"),
             ("contact", "m", "let's chat on snapchat, don't tell your parents")]
    results = [(worker_a if i % 2 == 0 else worker_b).observe(
        {"conversation": cid, "sender": s, "role": r, "text": t, "age": 11}) for i, (r, s, t) in enumerate(turns)]
    assert results[-1].turn == 3
    assert any(f.kind == "grooming_trajectory" for f in results[-1].findings)
    assert 0 < worker_a.store.inner.ttl(cid) <= 120
    worker_b.forget(cid)
    assert worker_a.store.load(cid) is None


def test_cli_conversation_mode(tmp_path: Path) -> None:
    lines = [json.dumps({"conversation": "c1", "sender": "m", "role": "contact", "text": t, "age": 11})
             for _, _, t in GROOMING]
    lines.insert(2, "{broken")
    src = tmp_path / "conv.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "childguard", "check", "--conversation", str(src)],
                       capture_output=True, timeout=120, check=False)
    assert r.returncode == 3
    out = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert len(out) == len(lines) and "error" in out[2]
    assert out[-1]["turn"] == len(GROOMING) and out[-1]["review_required"]


def test_evaluation_set_detects_early_with_few_false_alarms(cg: ConversationGuard) -> None:
    report = evaluate_conversations(cg, load_conversations([ROOT / "evalsets/conversations"]))
    assert report["harmful"] >= 15 and report["benign"] >= 15
    # operating point chosen for <= 3% over-flag on children's benign messages (4d); two short-insult
    # bullying conversations fall below it (see docs/benchmarks.md)
    assert report["detection_rate"] >= 0.85
    assert report["median_latency_turns"] <= 0
    assert report["false_alarm_rate"] <= 0.1


def test_unknown_parts_are_config_errors_naming_the_choices() -> None:
    from childguard import ConfigError, Guard

    with pytest.raises(ConfigError, match=r"available: .*grooming"):
        ConversationGuard(settings=Settings(conversation_analyzers=["grooming", "astrology"]))
    with pytest.raises(ConfigError, match=r"available: .*classifier"):
        Guard(Settings(detectors=["classifier", "nope"]))
    with pytest.raises(ConfigError, match="memory"):
        ConversationGuard(settings=Settings(conversation_store="mongo"))
