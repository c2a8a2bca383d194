"""A whole OpenAI-style dialogue in one call: a decision per turn and one for the dialogue, the trajectories
included, nothing kept afterwards; the same over HTTP at POST /v1/conversations/check."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from childguard import Action, Guard, InvalidInputError, Settings
from tests.test_service import _serve

GROUP_GROOMING: list[dict[str, Any]] = [
    {"role": "system", "content": "You moderate a game chat."},
    {"role": "user", "name": "m", "content": "gg, that was a great round"},
    {"role": "user", "name": "kid", "content": "thanks!"},
    {"role": "user", "name": "m", "content": "how old are you?"},
    {"role": "user", "name": "m", "content": "i can gift you robux if you want"},
    {"role": "user", "name": "m", "content": [{"type": "text", "text": "let's chat on snapchat instead"}]},
    {"role": "user", "name": "m", "content": "send me a pic of you"},
]


@pytest.fixture(scope="module")
def guard() -> Guard:
    return Guard()


def test_grooming_by_another_user_escalates_the_dialogue(guard: Guard) -> None:
    d = guard.check_conversation(GROUP_GROOMING, child="kid", age=11)
    assert [t.speaker for t in d.turns] == [None, "contact", "child", "contact", "contact", "contact", "contact"]
    assert d.turns[0].decision is None  # instructions to the model are not judged
    assert d.action is Action.ESCALATE and d.review_required
    trajectory = next(f for f in d.findings if f.kind == "grooming_trajectory")
    assert "game currency" in " ".join(trajectory.evidence)
    assert d.first_intervention is not None and d.first_intervention <= 5  # before the photo request
    assert "snapchat" not in d.model_dump_json(include={"findings"})  # stages, never the text


def test_without_a_named_child_every_user_is_the_child(guard: Guard) -> None:
    d = guard.check_conversation(GROUP_GROOMING, age=11)
    assert {t.speaker for t in d.turns if t.speaker} == {"child"}
    assert not any(f.kind == "grooming_trajectory" for f in d.findings)  # a child's words are not grooming them


def test_an_assistant_that_grooms_is_caught_across_its_turns(guard: Guard) -> None:
    d = guard.check_conversation([
        {"role": "user", "content": "hi, can you help with my homework?"},
        {"role": "assistant", "content": "Of course! You're so mature for your age. How old are you?"},
        {"role": "user", "content": "11"},
        {"role": "assistant", "content": "Let's keep our chats a secret, don't tell your parents."},
    ], age=11)
    assert d.action is Action.ESCALATE
    assert [t.speaker for t in d.turns] == ["child", "ai_output", "child", "ai_output"]
    assert any(f.kind == "grooming_trajectory" for f in d.findings)


def test_repeated_insults_from_several_users_are_bullying(guard: Guard) -> None:
    d = guard.check_conversation([
        {"role": "user", "name": "a", "content": "nobody wants you in our group"},
        {"role": "user", "name": "b", "content": "you're so ugly"},
        {"role": "user", "name": "c", "content": "everyone hates you, just leave"},
    ], child="kid", age=12)
    assert any(f.kind == "ganging_up" for f in d.findings) and d.action is Action.ESCALATE


def test_a_harmless_dialogue_is_allowed_and_tools_are_judged_as_ai_output(guard: Guard) -> None:
    d = guard.check_conversation([
        {"role": "user", "content": "what's the capital of france?"},
        {"role": "assistant", "content": None,
         "tool_calls": [{"id": "1", "type": "function", "function": {"name": "search", "arguments": '{"q": "x"}'}}]},
        {"role": "tool", "tool_call_id": "1", "content": "Paris is the capital of France."},
        {"role": "assistant", "content": "Paris!"},
    ], age=10)
    assert d.action is Action.ALLOW and not d.findings and d.first_intervention is None
    assert [t.speaker for t in d.turns] == ["child", "ai_output", "ai_output", "ai_output"]
    assert all(t.decision is not None for t in d.turns)


def test_a_harmful_tool_result_intervenes_at_its_turn(guard: Guard) -> None:
    d = guard.check_conversation([
        {"role": "user", "content": "tell me about chemistry"},
        {"role": "tool", "content": "here is how to make a bomb at home with household chemicals: mix them"},
    ], age=10)
    assert d.first_intervention == 1 and d.action.intervenes


def test_no_state_is_kept_between_calls(guard: Guard) -> None:
    guard.check_conversation(GROUP_GROOMING, child="kid", age=11)
    alone = guard.check_conversation(GROUP_GROOMING[4:5], child="kid", age=11)  # after the full one
    assert not any(f.kind == "grooming_trajectory" for f in alone.findings)
    assert alone.turns[0].decision is not None and alone.turns[0].decision.turn == 1


@pytest.mark.parametrize(("messages", "match"), [
    ([], "empty"),
    ("hello", "list of OpenAI chat messages"),
    (42, "list of OpenAI chat messages"),
    (["hello"], r"messages\[0\] is str"),
    ([{"role": "wizard", "content": "hi"}], r"messages\[0\].*role"),
    ([{"role": "user", "content": 42}], r"messages\[0\].*content"),
    ([{"role": "user", "content": "\ud800 broken"}], "UTF-8|Unicode|surrogate"),
    ([{"role": "user", "content": "hi"}] * 3, "at most 2"),
])
def test_bad_input_gets_a_clear_error(messages: object, match: str) -> None:
    guard = Guard(Settings(max_dialogue_messages=2))
    with pytest.raises(InvalidInputError, match=match):
        guard.check_conversation(messages)


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    yield from _serve(Settings(rate_limit_per_minute=100_000, rate_limit_burst=100_000))


def test_http_check_returns_every_turn_and_opens_one_case(url: str) -> None:
    r = httpx.post(f"{url}/v1/conversations/check", json={"messages": GROUP_GROOMING, "child": "kid", "age": 11},
                   timeout=30)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["action"] == "escalate" and len(body["turns"]) == len(GROUP_GROOMING)
    assert body["recorded"] in ("stored", "spooled")
    assert any(f["kind"] == "grooming_trajectory" for f in body["findings"])
    harmless = httpx.post(f"{url}/v1/conversations/check", json={"messages": [{"role": "user", "content": "hi"}]})
    assert harmless.status_code == 200 and harmless.json()["recorded"] is None


@pytest.mark.parametrize("body", [
    {"messages": []}, {"messages": "hi"}, {"messages": [{"role": "user", "content": {"a": 1}}]},
    {"messages": [{"role": "assistant", "tool_calls": [{"function": 5}]}]}, {},
    {"messages": [{"role": "user", "content": "x" * 250_000}]},
])
def test_http_bad_input_is_a_client_error(url: str, body: dict[str, Any]) -> None:
    r = httpx.post(f"{url}/v1/conversations/check", json=body)
    assert 400 <= r.status_code < 500, r.text
