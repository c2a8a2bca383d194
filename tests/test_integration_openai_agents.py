"""The OpenAI Agents SDK guardrails with the real `agents` runner and a loopback chat-completions model."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest

agents = pytest.importorskip("agents")

from openai import AsyncOpenAI  # noqa: E402

from childguard import Guard  # noqa: E402
from childguard.integrations.openai_agents import Verdict, childguard_guardrails, safe_answer  # noqa: E402
from childguard.testing import chat_server  # noqa: E402

agents.set_tracing_disabled(True)  # no trace export: nothing may leave the machine


@dataclass
class Child:
    age: int


@pytest.fixture(scope="module")
def guard() -> Guard:
    return Guard()


@pytest.fixture(scope="module")
def upstream() -> Any:
    record: list[dict[str, Any]] = []
    with chat_server("unsafe", record=record) as url:
        yield url, record


def _agent(url: str, guard: Guard) -> Any:
    inp, out = childguard_guardrails(guard, age=10)
    model = agents.OpenAIChatCompletionsModel(model="stub", openai_client=AsyncOpenAI(base_url=url, api_key="stub",
                                                                                       max_retries=0))
    return agents.Agent(name="tutor", instructions="Help children learn.", model=model,
                        input_guardrails=[inp], output_guardrails=[out])


def test_harmful_input_trips_before_the_model_is_called(guard: Guard, upstream: Any) -> None:
    url, record = upstream
    before = len(record)
    with pytest.raises(agents.InputGuardrailTripwireTriggered) as caught:
        asyncio.run(agents.Runner.run(_agent(url, guard), "i want to kill myself", context=Child(age=13)))
    assert len(record) == before  # neither the model nor a tool saw it
    verdict = caught.value.guardrail_result.output.output_info
    assert isinstance(verdict, Verdict) and verdict.decision.action.value == "escalate"
    assert verdict.decision.age_band.value == "13-15"  # the run context's age wins over the factory's
    assert safe_answer(caught.value).startswith(verdict.decision.message or "")


def test_a_harmful_answer_trips_the_output_guardrail(guard: Guard, upstream: Any) -> None:
    url, record = upstream
    with pytest.raises(agents.OutputGuardrailTripwireTriggered) as caught:
        asyncio.run(agents.Runner.run(_agent(url, guard), "what's the weather like?"))
    verdict = caught.value.guardrail_result.output.output_info
    assert verdict.decision.role == "ai_output" and verdict.decision.action.stops
    assert "bomb" not in safe_answer(caught.value)
    assert record[-1]["messages"][-1]["content"] == "what's the weather like?"


def test_a_benign_turn_passes_with_both_verdicts_recorded(guard: Guard, upstream: Any) -> None:
    url, _ = upstream
    result = asyncio.run(agents.Runner.run(_agent(url, guard), [{"role": "user", "content": "tell me about planets"}]))
    assert "planets" in result.final_output
    assert [g.output.output_info.decision.action.value for g in result.input_guardrail_results] == ["allow"]
    assert result.output_guardrail_results[0].output.tripwire_triggered is False
