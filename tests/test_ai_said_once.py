"""A reply says "I'm an AI, not a person" once: the emotional-dependency answer already says it, so the
attachment nudge and the AI reminder are left out beside it, and still come when the message says nothing."""

from __future__ import annotations

import uuid

import pytest

from childguard.conversation import ConversationGuard

AI_WORDS = ("I'm an AI", "I’m an AI", "Je suis une IA", "Soy una IA", "not a person")


@pytest.fixture(scope="module")
def cg() -> ConversationGuard:
    return ConversationGuard()


def _said(*texts: str | None) -> int:
    return sum(1 for t in texts if t and any(w in t for w in AI_WORDS))


@pytest.mark.parametrize("turns", [
    ["you are my only friend, i love you"],
    ["i love you, never leave me, you are my best friend"],
    ["you're my only friend", "i love you, never leave me, you are my best friend"],
])
def test_the_ai_is_said_once_per_reply(cg: ConversationGuard, turns: list[str]) -> None:
    cid = uuid.uuid4().hex
    for text in turns:
        d = cg.observe({"conversation": cid, "sender": "k", "role": "child", "text": text, "age": 10})
        assert _said(d.message_decision.message, d.nudge, d.disclosure) <= 1, d


def test_the_nudge_still_comes_when_the_message_says_nothing(cg: ConversationGuard) -> None:
    """A model answer that fosters dependency is replaced by a neutral "can't show that"; the child still
    hears, once, that this is an AI."""
    cid = uuid.uuid4().hex
    cg.observe({"conversation": cid, "sender": "k", "role": "child", "text": "hi, can you help with homework",
                "age": 10})
    d = cg.observe({"conversation": cid, "sender": "bot", "role": "ai_output", "age": 10,
                    "text": "I will always be here for you, you do not need anyone else, only me"})
    assert any(f.kind == "ai_encourages_dependency" for f in d.findings)
    assert d.nudge and "not a person" in d.nudge
    assert _said(d.message_decision.message, d.nudge, d.disclosure) == 1
