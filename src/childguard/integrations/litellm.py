"""LiteLLM proxy (`pip install childguard[litellm]`): a custom guardrail, enabled in the proxy's config.

    guardrails:
      - guardrail_name: childguard
        litellm_params:
          guardrail: childguard.integrations.litellm.ChildGuardGuardrail
          mode: [pre_call, post_call]
          default_on: true
          age: 11            # optional defaults; a request's "childguard": {"age", "lang", "country"} wins
          country: GB

pre_call checks the child's last message: one that must not be answered as asked (redirect, block,
escalate) never reaches the model, and the child gets the child-facing message and helplines as an
ordinary answer (LiteLLM's rejected-request answer, streamed when the request streams). post_call checks
the model's answer and replaces it when it must not reach the child (block, escalate); a streamed
answer is released only after it has been checked with everything before it, holding back the last
`holdback_chars`, so a harmful sentence is cut before the child sees its start (as the gateway does).
The request's `childguard` object is removed before the model is called (the upstream gets no age);
the text-free decisions are left in the request's `metadata["childguard"]` for LiteLLM's logging."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any

from litellm.integrations.custom_guardrail import CustomGuardrail
from litellm.types.guardrails import GuardrailEventHooks

from ..content_parts import texts_of
from ..decision import Decision
from ..errors import InvalidInputError
from ..guard import Guard
from .common import safe_text, stops_input, stops_output, summary

_SETTINGS = ("age", "lang", "country")
STEP_CHARS = 40  # check a stream in steps, not per token


def _text(content: object) -> str:
    return "\n".join(texts_of(content))  # plain text or content parts, as the gateway reads them


def last_user_text(data: Mapping[str, Any]) -> str | None:
    messages = data.get("messages")
    if not isinstance(messages, list):
        return None
    for m in reversed(messages):
        if isinstance(m, Mapping) and m.get("role") == "user":
            return _text(m.get("content"))
    return None


class ChildGuardGuardrail(CustomGuardrail):
    def __init__(self, guard: Guard | None = None, age: object = None, lang: str | None = None,
                 country: str | None = None, holdback_chars: int = 60, **kwargs: Any) -> None:
        self.guard = guard or Guard()
        self.defaults: dict[str, Any] = {"age": age, "lang": lang, "country": country}
        self.holdback_chars = holdback_chars
        # LiteLLM then refuses, at start-up, a mode this guardrail would silently not run in (during_call)
        kwargs.setdefault("supported_event_hooks", [GuardrailEventHooks.pre_call, GuardrailEventHooks.post_call])
        super().__init__(**kwargs)

    # -- per request -----------------------------------------------------------------------------------

    def _settings(self, data: dict[str, Any]) -> dict[str, Any]:
        """The request's own `childguard` settings (taken out of what goes upstream), over the defaults."""
        given = data.pop("childguard", None)
        if given is not None and not isinstance(given, Mapping):
            raise InvalidInputError("'childguard' must be an object with age, lang, country")
        metadata = data.setdefault("metadata", {})
        kept = metadata.get("childguard", {}).get("settings") if isinstance(metadata, dict) else None
        out = {**self.defaults, **(kept or {}), **{k: v for k, v in (given or {}).items() if k in _SETTINGS}}
        return out

    def _note(self, data: dict[str, Any], key: str, value: Any) -> None:
        metadata = data.setdefault("metadata", {})
        if isinstance(metadata, dict):
            metadata.setdefault("childguard", {})[key] = value

    def _check(self, text: str, settings: Mapping[str, Any], role: str) -> Decision:
        return self.guard.check(text, age=settings["age"], lang=settings["lang"], role=role,
                                country=settings["country"])

    # -- LiteLLM's hooks --------------------------------------------------------------------------------

    async def async_pre_call_hook(self, user_api_key_dict: Any, cache: Any, data: dict[str, Any],
                                  call_type: Any) -> Any:
        settings = self._settings(data)
        self._note(data, "settings", settings)
        text = last_user_text(data)
        if text is None:
            return data  # not a chat request (embeddings, images): nothing a child wrote to check
        decision = self._check(text, settings, "child")
        self._note(data, "input", summary(decision))
        if stops_input(decision):
            # LiteLLM's own canned answer: an ordinary (or streamed) reply, and the model is never called
            data["mock_response"] = safe_text(decision)
            self._note(data, "answered", True)
        return data

    def _answered(self, data: Mapping[str, Any]) -> bool:
        """The answer is childguard's own safe answer (pre_call): not checked again as model output."""
        metadata = data.get("metadata")
        return isinstance(metadata, dict) and bool(metadata.get("childguard", {}).get("answered"))

    async def async_post_call_success_hook(self, data: dict[str, Any], user_api_key_dict: Any,
                                           response: Any) -> Any:
        choices = getattr(response, "choices", None) or []
        if self._answered(data):
            return response
        settings = self._settings(data)
        for choice in choices:
            message = getattr(choice, "message", None)
            content = getattr(message, "content", None)
            if message is None or not isinstance(content, str):
                continue
            decision = self._check(content, settings, "ai_output")
            self._note(data, "output", summary(decision))
            if stops_output(decision):
                message.content = safe_text(decision)
        return response

    async def async_post_call_streaming_iterator_hook(self, user_api_key_dict: Any, response: AsyncIterator[Any],
                                                      request_data: dict[str, Any]) -> AsyncGenerator[Any, None]:
        if self._answered(request_data):
            async for chunk in response:
                yield chunk
            return
        settings = self._settings(request_data)
        text, checked = "", 0
        held: list[tuple[Any, int]] = []  # chunks not yet released, with the text length at their end
        async for chunk in response:
            text += _delta(chunk)
            held.append((chunk, len(text)))
            if len(text) - checked < self.holdback_chars + STEP_CHARS:
                continue
            checked = len(text)
            decision = self._check(text, settings, "ai_output")
            if stops_output(decision):
                self._note(request_data, "output", summary(decision))
                yield _replaced(chunk, safe_text(decision))
                return
            while held and held[0][1] <= len(text) - self.holdback_chars:
                yield held.pop(0)[0]
        decision = self._check(text, settings, "ai_output")
        self._note(request_data, "output", summary(decision))
        if stops_output(decision):
            last = held[-1][0] if held else None
            if last is not None:
                yield _replaced(last, safe_text(decision))
            return
        for chunk, _ in held:
            yield chunk


def _delta(chunk: Any) -> str:
    choices = getattr(chunk, "choices", None) or []
    delta = getattr(choices[0], "delta", None) if choices else None
    content = getattr(delta, "content", None)
    return content if isinstance(content, str) else ""


def _replaced(chunk: Any, text: str) -> Any:
    """The safe answer in a copy of a real chunk of the stream, marked as its end."""
    out = chunk.model_copy(deep=True)
    if out.choices:
        out.choices[0].delta.content = "\n\n" + text
        out.choices[0].finish_reason = "stop"
    return out
