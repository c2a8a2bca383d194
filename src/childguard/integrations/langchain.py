"""LangChain (`pip install childguard[langchain]`): any Runnable (a chat model, an LCEL chain, an agent)
wrapped so the child's message is checked before it runs and its answer after.

    chain = ChildGuardRunnable(prompt | model | StrOutputParser(), age=11)
    chain.invoke({"input": "how do volcanoes work?"})

A message that must not be answered as asked never reaches the chain: the child gets the child-facing
message (and helplines) in the shape the chain would have answered in. An answer that must not reach
the child is replaced the same way. The input decision is in the run's metadata (`childguard_input`,
inherited by the chain's own runs, so a tracer sees it on every step); both decisions are sent as the
custom event `childguard` and, for message answers, in `response_metadata["childguard"]`, all as the
text-free summary of `common.summary`. `stream()` yields the checked answer as one chunk: nothing is
released before the whole answer has been checked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, get_args

from langchain_core.callbacks import adispatch_custom_event, dispatch_custom_event
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.prompt_values import PromptValue
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda
from langchain_core.runnables.config import ensure_config, merge_configs

from ..decision import Decision
from ..errors import InvalidInputError
from ..guard import Guard
from .common import safe_text, stops_input, stops_output, summary

EVENT = "childguard"


def _message_text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    parts = [p if isinstance(p, str) else p.get("text") for p in content if isinstance(p, str | dict)]
    return "\n".join(p for p in parts if isinstance(p, str))


def child_text(value: object, key: str) -> str:
    """The child's newest message in what a chain is given: a string, a dict holding it under `key`, a
    prompt value or a message list (its last human message)."""
    if isinstance(value, str):
        return value
    if isinstance(value, PromptValue):
        value = value.to_messages()
    if isinstance(value, BaseMessage):
        value = [value]
    if isinstance(value, Mapping):
        if key not in value:
            raise InvalidInputError(f"the chain's input has no {key!r}; name the key holding the child's message "
                                    "with ChildGuardRunnable(..., input_key=...)")
        return child_text(value[key], key)
    if isinstance(value, Sequence):
        for m in reversed(value):
            if isinstance(m, HumanMessage):
                return _message_text(m)
            if isinstance(m, tuple) and len(m) == 2 and m[0] in ("human", "user") and isinstance(m[1], str):
                return m[1]
    raise InvalidInputError(f"cannot find the child's message in a {type(value).__name__}; pass a string, a dict "
                            "with input_key, or messages ending with the child's")


def answer_text(value: object, key: str) -> str:
    """The answer's text; an answer it cannot read is refused rather than passed on unchecked."""
    if isinstance(value, str):
        return value
    if isinstance(value, BaseMessage):
        return _message_text(value)
    if isinstance(value, Mapping) and isinstance(value.get(key), str | BaseMessage):
        return answer_text(value[key], key)
    raise InvalidInputError(f"cannot find the answer's text in a {type(value).__name__}; name the key holding it "
                            "with ChildGuardRunnable(..., output_key=...)")


class ChildGuardRunnable(Runnable[Any, Any]):
    def __init__(self, runnable: Runnable[Any, Any], guard: Guard | None = None, *, age: object = None,
                 lang: str | None = None, country: str | None = None, input_key: str = "input",
                 output_key: str = "output") -> None:
        self.runnable = runnable
        self.guard = guard or Guard()
        self.age, self.lang, self.country = age, lang, country
        self.input_key, self.output_key = input_key, output_key
        self._step: Runnable[Any, Any] = RunnableLambda(self._run, afunc=self._arun, name="childguard")

    @property
    def InputType(self) -> Any:
        return self.runnable.InputType

    @property
    def OutputType(self) -> Any:
        return self.runnable.OutputType

    # -- the two checks --------------------------------------------------------------------------------

    def _check_in(self, value: object) -> Decision:
        return self.guard.check(child_text(value, self.input_key), age=self.age, lang=self.lang, role="child",
                                country=self.country)

    def _check_out(self, answer: object, before: Decision) -> Decision:
        return self.guard.check(answer_text(answer, self.output_key), age=before.age_band,
                                lang=before.lang if before.lang != "und" else None, role="ai_output")

    def _config(self, config: RunnableConfig | None, decision: Decision) -> RunnableConfig:
        return merge_configs(ensure_config(config), {"metadata": {"childguard_input": summary(decision)}})

    def _shaped(self, text: str, like: object, decisions: dict[str, Any]) -> Any:
        """The safe answer in the shape of the chain's answer (`like`, or its declared output type)."""
        if isinstance(like, BaseMessage) or (like is None and _is_message_type(self.OutputType)):
            return AIMessage(content=text, response_metadata={"childguard": decisions})
        if isinstance(like, Mapping):
            return {**like, self.output_key: text}
        return text

    def _finish(self, answer: object, before: Decision, after: Decision) -> tuple[Any, dict[str, Any]]:
        decisions = {"input": summary(before), "output": summary(after)}
        if stops_output(after):
            return self._shaped(safe_text(after), answer, decisions), decisions
        if isinstance(answer, BaseMessage):
            answer.response_metadata = {**answer.response_metadata, "childguard": decisions}
        return answer, decisions

    # -- sync and async --------------------------------------------------------------------------------

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        decision = self._check_in(input)
        return self._step.invoke({"value": input, "decision": decision}, self._config(config, decision))

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        decision = self._check_in(input)
        return await self._step.ainvoke({"value": input, "decision": decision}, self._config(config, decision))

    def _run(self, step: dict[str, Any], config: RunnableConfig) -> Any:
        before: Decision = step["decision"]
        if stops_input(before):
            decisions = {"input": summary(before), "output": None}
            dispatch_custom_event(EVENT, decisions, config=config)
            return self._shaped(safe_text(before), None, decisions)
        answer = self.runnable.invoke(step["value"], config)
        result, decisions = self._finish(answer, before, self._check_out(answer, before))
        dispatch_custom_event(EVENT, decisions, config=config)
        return result

    async def _arun(self, step: dict[str, Any], config: RunnableConfig) -> Any:
        before: Decision = step["decision"]
        if stops_input(before):
            decisions = {"input": summary(before), "output": None}
            await adispatch_custom_event(EVENT, decisions, config=config)
            return self._shaped(safe_text(before), None, decisions)
        answer = await self.runnable.ainvoke(step["value"], config)
        result, decisions = self._finish(answer, before, self._check_out(answer, before))
        await adispatch_custom_event(EVENT, decisions, config=config)
        return result


def _is_message_type(kind: Any) -> bool:
    """A message class, or a union of them (a chat model declares `AnyMessage`, an annotated union)."""
    if isinstance(kind, type):
        return issubclass(kind, BaseMessage)
    return any(_is_message_type(arg) for arg in get_args(kind))
