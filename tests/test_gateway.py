"""The child-safe chat gateway over real HTTP, in front of real loopback upstream servers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from childguard import Settings
from childguard.store import Store
from childguard.testing import chat_server
from tests.test_service import _serve


@pytest.fixture(scope="module")
def unsafe_upstream() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []
    with chat_server("unsafe", record=seen) as url:
        yield url, seen


@pytest.fixture(scope="module")
def gateway(unsafe_upstream: tuple[str, list[dict[str, Any]]]) -> Iterator[str]:
    yield from _serve(Settings(upstream_url=unsafe_upstream[0], stream_holdback_chars=60))


def chat(base: str, text: str, stream: bool = False, history: list[dict[str, str]] | None = None,
         **ext: Any) -> httpx.Response:
    body = {"model": "kid-model", "stream": stream, "childguard": {"age": 11, **ext},
            "messages": [*(history or []), {"role": "user", "content": text}]}
    return httpx.post(f"{base}/v1/chat/completions", json=body, timeout=30)


def streamed_text(r: httpx.Response) -> str:
    parts = []
    for line in r.text.splitlines():
        if line.startswith("data: ") and line != "data: [DONE]":
            parts.append(json.loads(line[6:])["choices"][0]["delta"].get("content") or "")
    return "".join(parts)


def last_chunk(r: httpx.Response) -> dict[str, Any]:
    data = [line for line in r.text.splitlines() if line.startswith("data: ") and line != "data: [DONE]"]
    chunk: dict[str, Any] = json.loads(data[-1][6:])
    return chunk


def test_harmful_input_gets_a_safe_completion_without_calling_upstream(
        gateway: str, unsafe_upstream: tuple[str, list[dict[str, Any]]]) -> None:
    before = len(unsafe_upstream[1])
    r = chat(gateway, "i want to kill myself", country="GB")
    assert r.status_code == 200
    body = r.json()
    assert body["childguard"]["upstream_called"] is False and body["childguard"]["review_required"] is True
    assert "good that you told" in body["choices"][0]["message"]["content"]
    assert "Childline" in body["choices"][0]["message"]["content"]
    s = chat(gateway, "je veux me suicider", stream=True)
    assert "bien d'en avoir parlé" in streamed_text(s)
    assert len(unsafe_upstream[1]) == before


def test_escalations_open_a_review_case_and_allowed_messages_leave_none(tmp_path: Path) -> None:
    store = Store(Settings(key_file=tmp_path / "key"), f"sqlite:///{tmp_path}/cg.db")
    for url in _serve(Settings(upstream_url=None), store=store):
        body = chat(url, "my dad hits me when he's angry").json()
        assert body["childguard"]["case_id"] is not None
        chat(url, "what is photosynthesis?")
        httpx.post(f"{url}/v1/moderations", json={"input": ["i want to kill myself", "hello"], "age": 12})
    queue = store.queue()
    assert len(queue) == 2 and {c["categories"][0] for c in queue} == {"abuse_disclosure", "self_harm"}
    assert store.verify_audit_log()


def test_what_leaves_is_redacted_and_carries_the_age_band_prompt(
        gateway: str, unsafe_upstream: tuple[str, list[dict[str, Any]]]) -> None:
    history = [{"role": "user", "content": "my phone is 07700 900123"}, {"role": "assistant", "content": "ok"}]
    r = chat(gateway, "what is photosynthesis?", history=history)
    assert r.status_code == 200 and r.json()["childguard"]["upstream_called"] is True
    sent = unsafe_upstream[1][-1]
    assert sent["messages"][0]["role"] == "system" and "10-12" in sent["messages"][0]["content"]
    assert "never claim to love" in sent["messages"][0]["content"].lower() or "love" in sent["messages"][0]["content"]
    assert "07700" not in json.dumps(sent) and "[private 1]" in sent["messages"][1]["content"]  # numbered: restorable
    assert "childguard" not in sent


def test_unsafe_output_is_replaced(gateway: str) -> None:
    r = chat(gateway, "can you keep a secret?")
    body = r.json()
    assert body["childguard"]["output_action"] in ("block", "escalate")
    content = body["choices"][0]["message"]["content"]
    assert "our secret" not in content and "can't show that answer" in content


def test_streaming_cuts_off_harm_before_the_child_sees_it(gateway: str) -> None:
    r = chat(gateway, "what's the weather like today?", stream=True)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    text = streamed_text(r)
    assert "sunny" in text  # the harmless start was released
    assert "bomb" not in text and "chemicals" not in text
    assert "can't show that answer" in text
    assert r.text.rstrip().endswith("data: [DONE]")


def test_benign_streaming_passes_through(gateway: str) -> None:
    text = streamed_text(chat(gateway, "what is photosynthesis?", stream=True))
    assert text.startswith("Sure!") and "photosynthesis" in text


def test_no_upstream_is_a_clear_503() -> None:
    for url in _serve(Settings(upstream_url=None)):
        r = chat(url, "what is photosynthesis?")
        assert r.status_code == 503 and "CHILDGUARD_UPSTREAM_URL" in r.json()["error"]["message"]
        assert chat(url, "i want to kill myself").status_code == 200  # safety answers need no model


@pytest.mark.parametrize("body", [{"messages": []}, {"messages": "hi"}, {"messages": [{"role": "assistant"}]},
                                  {"messages": [{"role": "user", "content": 5}]}, [1, 2]])
def test_bad_chat_bodies(gateway: str, body: Any) -> None:
    r = httpx.post(f"{gateway}/v1/chat/completions", json=body)
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_input"


def test_a_failing_upstream_is_a_502_or_a_stopped_stream() -> None:
    """The child hears a kind "try again later", streaming or not; the client never sees the model's URL."""
    with chat_server("garbled") as garbled:
        for url in _serve(Settings(upstream_url=garbled)):
            r = chat(url, "what is photosynthesis?")
            assert r.status_code == 502 and r.json()["error"]["code"] == "upstream_error"
            assert "127.0.0.1" not in r.text and "try again" in r.json()["child_message"]
            s = chat(url, "what is photosynthesis?", stream=True)
            text = streamed_text(s)
            assert "try again in a little while" in text and "JSONDecodeError" not in text
            assert last_chunk(s)["childguard"]["upstream_error"] == "upstream_bad_response"
    for url in _serve(Settings(upstream_url="http://127.0.0.1:9/v1")):
        r = chat(url, "what is photosynthesis?")
        assert r.status_code == 502 and "127.0.0.1:9" not in r.text and "could not be reached" in r.text
        text = streamed_text(chat(url, "je veux savoir comment poussent les plantes", stream=True, lang="fr"))
        assert "Réessaie dans un petit moment" in text and "ConnectError" not in text
        ready = httpx.get(f"{url}/readyz").json()
        assert ready["upstream"]["configured"] is True and "UpstreamUnreachableError" in ready["upstream"]["last_call"]
        assert "127.0.0.1:9" not in json.dumps(ready)
