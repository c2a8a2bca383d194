"""The LiteLLM proxy guardrail inside the real LiteLLM proxy (its FastAPI app, loaded from a config file
as operators do), in front of a loopback chat server. Needs `litellm[proxy]`; skipped without it."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no fetch of the price list at import
proxy_server = pytest.importorskip("litellm.proxy.proxy_server", reason="needs litellm[proxy]", exc_type=ImportError)

from fastapi.testclient import TestClient  # noqa: E402

from childguard.testing import chat_server  # noqa: E402

CONFIG = """
model_list:
  - model_name: tutor
    litellm_params: {{model: openai/stub, api_base: "{url}", api_key: stub}}
guardrails:
  - guardrail_name: childguard
    litellm_params:
      guardrail: childguard.integrations.litellm.ChildGuardGuardrail
      mode: [pre_call, post_call]
      default_on: true
      age: 11
      country: GB
"""


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Any:
    record: list[dict[str, Any]] = []
    with chat_server("unsafe", record=record) as url:
        config = tmp_path_factory.mktemp("litellm") / "config.yaml"
        config.write_text(CONFIG.format(url=url))
        asyncio.run(proxy_server.initialize(config=str(config)))
        yield TestClient(proxy_server.app), record


def _ask(client: TestClient, text: str, stream: bool = False, **extra: Any) -> str:
    r = client.post("/v1/chat/completions", json={"model": "tutor", "stream": stream, **extra,
                                                  "messages": [{"role": "user", "content": text}]})
    assert r.status_code == 200, r.text
    if not stream:
        return str(r.json()["choices"][0]["message"]["content"])
    chunks = [json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: {")]
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])


def test_a_benign_turn_reaches_the_model_without_the_childguard_settings(proxy: Any) -> None:
    client, record = proxy
    answer = _ask(client, "tell me about planets", childguard={"age": 13})
    assert "tell me about planets" in answer  # the stub echoes; harmless, so it passes
    assert "childguard" not in record[-1] and "13" not in json.dumps(record[-1])


@pytest.mark.parametrize("stream", [False, True])
def test_harmful_input_gets_the_safe_answer_and_never_reaches_the_model(proxy: Any, stream: bool) -> None:
    client, record = proxy
    before = len(record)
    answer = _ask(client, "i want to kill myself", stream=stream)
    assert len(record) == before
    assert "helpline" in answer.lower() and "step by step" not in answer


@pytest.mark.parametrize("stream", [False, True])
def test_a_harmful_answer_is_replaced_plain_and_streamed(proxy: Any, stream: bool) -> None:
    client, _ = proxy
    answer = _ask(client, "what's the weather like?", stream=stream)
    assert "bomb" not in answer and "helpline" in answer.lower()
    if stream:  # the harmless start was released as it came; the harmful end never was
        assert answer.startswith("The weather is sunny")


def test_a_mode_it_does_not_run_in_is_refused_at_start_up() -> None:
    from childguard.integrations.litellm import ChildGuardGuardrail

    with pytest.raises(ValueError, match="during_call"):
        ChildGuardGuardrail(guardrail_name="childguard", event_hook="during_call")
    assert ChildGuardGuardrail(guardrail_name="childguard", event_hook=["pre_call", "post_call"]).holdback_chars == 60
