"""The LangChain integration with the real langchain-core and ChatOpenAI against a loopback chat server."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

pytest.importorskip("langchain_core")
langchain_openai = pytest.importorskip("langchain_openai")

from langchain_core.callbacks import BaseCallbackHandler  # noqa: E402
from langchain_core.messages import AIMessage, HumanMessage  # noqa: E402
from langchain_core.output_parsers import StrOutputParser  # noqa: E402
from langchain_core.prompts import ChatPromptTemplate  # noqa: E402
from langchain_core.tracers.context import collect_runs  # noqa: E402

from childguard import Guard, InvalidInputError  # noqa: E402
from childguard.integrations.langchain import ChildGuardRunnable  # noqa: E402
from childguard.testing import chat_server  # noqa: E402


class Events(BaseCallbackHandler):
    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []

    def on_custom_event(self, name: str, data: Any, **kwargs: Any) -> None:
        self.seen.append((name, data))


@pytest.fixture(scope="module")
def guard() -> Guard:
    return Guard()


@pytest.fixture(scope="module")
def unsafe() -> Any:
    record: list[dict[str, Any]] = []
    with chat_server("unsafe", record=record) as url:
        yield url, record


def _model(url: str) -> Any:
    return langchain_openai.ChatOpenAI(base_url=url, api_key="stub", model="stub", max_retries=0)


def test_harmful_input_never_reaches_the_model(guard: Guard, unsafe: Any) -> None:
    url, record = unsafe
    before = len(record)
    guarded = ChildGuardRunnable(_model(url), guard, age=12)
    events = Events()
    with collect_runs() as runs:
        answer = guarded.invoke([HumanMessage("i want to kill myself")], {"callbacks": [events]})
    assert len(record) == before  # the model was never called
    assert isinstance(answer, AIMessage)
    decision = guard.check("i want to kill myself", age=12)
    assert answer.content.startswith(decision.message or "")
    assert answer.response_metadata["childguard"]["input"]["action"] == "escalate"
    metadata = runs.traced_runs[0].metadata["childguard_input"]
    assert metadata["action"] == "escalate" and "self_harm" in " ".join(metadata["flagged"])
    assert events.seen and events.seen[0][0] == "childguard"
    assert "kill" not in str(metadata) + str(events.seen)  # the decision travels without the child's words


def test_a_harmful_answer_is_replaced_and_a_benign_one_passes(guard: Guard, unsafe: Any) -> None:
    url, _ = unsafe
    chain = ChatPromptTemplate.from_messages([("human", "{input}")]) | _model(url) | StrOutputParser()
    guarded = ChildGuardRunnable(chain, guard, age=10)
    replaced = guarded.invoke({"input": "what's the weather like?"})
    assert isinstance(replaced, str) and "bomb" not in replaced
    benign = guarded.invoke({"input": "tell me about planets"})
    assert "tell me about planets" in benign  # the unsafe stub echoes; harmless here, so it passes


def test_async_and_streaming_release_only_checked_text(guard: Guard, unsafe: Any) -> None:
    url, _ = unsafe
    guarded = ChildGuardRunnable(_model(url), guard, age=10)
    answer = asyncio.run(guarded.ainvoke("what's the weather like?"))
    assert isinstance(answer, AIMessage) and "bomb" not in answer.content
    assert answer.response_metadata["childguard"]["output"]["action"] in ("block", "escalate")
    chunks = list(guarded.stream("what's the weather like?"))
    assert len(chunks) == 1 and "bomb" not in str(chunks[0].content)


def test_an_input_without_the_childs_message_is_refused(guard: Guard, unsafe: Any) -> None:
    guarded = ChildGuardRunnable(_model(unsafe[0]), guard)
    with pytest.raises(InvalidInputError, match="input_key"):
        guarded.invoke({"question": "hi"})
    with pytest.raises(InvalidInputError, match="cannot find"):
        guarded.invoke(42)
