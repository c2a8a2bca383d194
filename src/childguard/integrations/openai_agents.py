"""OpenAI Agents SDK (`pip install childguard[openai-agents]`): an input and an output guardrail.

    inp, out = childguard_guardrails(age=11)
    agent = Agent(name="tutor", instructions="...", input_guardrails=[inp], output_guardrails=[out])
    try:
        result = await Runner.run(agent, text)
    except (InputGuardrailTripwireTriggered, OutputGuardrailTripwireTriggered) as exc:
        answer = safe_answer(exc)  # what the child is told instead, with helplines

The input guardrail trips where the gateway would not answer as asked (redirect, block, escalate) and
runs before the model (`run_in_parallel=False`), so neither the model nor any tool sees a message that
must not be answered. The output guardrail trips on an answer that must not reach the child (block,
escalate). Each carries a `Verdict` (the full decision and the safe answer) as `output_info`.

Per run, `age`, `lang` and `country` are read from the run context when it has them (an attribute or a
mapping key), else the factory's. With `Runner.run_streamed` the SDK releases text events before output
guardrails run: buffer them until the run completes, or the child may see an answer that is then refused."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agents import (
    Agent,
    GuardrailFunctionOutput,
    InputGuardrail,
    InputGuardrailTripwireTriggered,
    OutputGuardrail,
    OutputGuardrailTripwireTriggered,
    RunContextWrapper,
    TResponseInputItem,
)
from pydantic import BaseModel

from ..content_parts import texts_of
from ..decision import Decision
from ..errors import InvalidInputError
from ..guard import Guard
from .common import safe_text, stops_input, stops_output


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    safe_answer: str


def _content_text(content: object) -> str:
    return "\n".join(texts_of(content))  # plain text or content parts, as the gateway reads them


def child_text(value: str | list[TResponseInputItem]) -> str:
    """The child's newest message: the input itself, or the last user item of an input list."""
    if isinstance(value, str):
        return value
    for item in reversed(value):
        if isinstance(item, Mapping) and item.get("role") == "user":
            return _content_text(item.get("content"))
    raise InvalidInputError("the agent's input holds no user message; the child's message must be one")


def answer_text(output: object) -> str:
    """A plain answer, or the JSON of a structured one (every string in it reaches the child somewhere)."""
    if isinstance(output, str):
        return output
    if isinstance(output, BaseModel):
        return output.model_dump_json()
    return json.dumps(output, default=str, ensure_ascii=False)


def _setting(context: Any, name: str, default: Any) -> Any:
    if isinstance(context, Mapping):
        return context.get(name, default)
    return getattr(context, name, default)


def childguard_guardrails(guard: Guard | None = None, *, age: object = None, lang: str | None = None,
                          country: str | None = None) -> tuple[InputGuardrail[Any], OutputGuardrail[Any]]:
    the_guard = guard or Guard()

    def check(ctx: RunContextWrapper[Any], text: str, role: str) -> Decision:
        c = ctx.context
        return the_guard.check(text, age=_setting(c, "age", age), lang=_setting(c, "lang", lang), role=role,
                               country=_setting(c, "country", country))

    async def on_input(ctx: RunContextWrapper[Any], agent: Agent[Any],
                       value: str | list[TResponseInputItem]) -> GuardrailFunctionOutput:
        decision = check(ctx, child_text(value), "child")
        return GuardrailFunctionOutput(output_info=Verdict(decision, safe_text(decision)),
                                       tripwire_triggered=stops_input(decision))

    async def on_output(ctx: RunContextWrapper[Any], agent: Agent[Any], output: Any) -> GuardrailFunctionOutput:
        decision = check(ctx, answer_text(output), "ai_output")
        return GuardrailFunctionOutput(output_info=Verdict(decision, safe_text(decision)),
                                       tripwire_triggered=stops_output(decision))

    return (InputGuardrail(on_input, name="childguard_input", run_in_parallel=False),
            OutputGuardrail(on_output, name="childguard_output"))


def safe_answer(exc: InputGuardrailTripwireTriggered | OutputGuardrailTripwireTriggered) -> str:
    """What the child is told instead of the refused turn."""
    info = exc.guardrail_result.output.output_info
    if not isinstance(info, Verdict):
        raise TypeError("this tripwire was not raised by a childguard guardrail")
    return info.safe_answer
