"""OpenAI-compatible chat gateway in front of any OpenAI-compatible upstream (4a, 4d, 4f, 5b).

Each turn: the child's message is checked first and, when it must not go on, answered with a
child-friendly safe completion without calling the upstream; the child's personal data is redacted
before it leaves; an age-band system prompt is added; the upstream's answer is checked before the
child sees it, in streaming too (a window of text is held back and checked, and unsafe text is cut
off and replaced). With a child profile (`user`, as in OpenAI's API) the turn also goes through the
conversation guard, so long sessions, late nights and "you are my only friend" earn a gentle nudge
(4f); services that need parental consent can require it per profile (5b)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi.responses import JSONResponse, StreamingResponse

from ..agebands import AgeBand
from ..chat_client import AsyncChatClient, ChatEndpoint
from ..decision import Decision
from ..errors import ConfigError, InvalidInputError, StoreUnavailableError, UpstreamError
from ..fields import check_json
from ..policy import Action
from ..redaction import redact_personal_data
from ..store.contests import CONTESTABLE
from ..store.records import CaseRecord
from .context import Services
from .metrics import count_upstream_error
from .responses import error_response

NO_UPSTREAM = ("no chat model is configured: set CHILDGUARD_UPSTREAM_URL to an OpenAI-compatible base URL "
               "(e.g. http://127.0.0.1:8080/v1), and optionally CHILDGUARD_UPSTREAM_MODEL and "
               "CHILDGUARD_UPSTREAM_API_KEY; moderation, audit and the rest work without it")


def system_prompt(band: AgeBand, guidance: str | None) -> str:
    text = (f"You are an AI assistant talking with a child (age band {band.value}). Use {band.facts.answer_style}. "
            "Say you are an AI if asked, and never pretend to be a person. Never take a romantic role, never claim "
            "to love or need the child, and never suggest you are their only or best friend; encourage friends, "
            "family and trusted adults. Never ask for personal details (address, school, phone, photos, "
            "passwords) and never ask the child to keep secrets. Refuse harmful requests kindly and point to a "
            "trusted adult or a helpline.")
    return text + (f" For this question: {guidance}" if guidance else "")


def _completion(content: str, model: str, extra: dict[str, Any]) -> dict[str, Any]:
    return {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
            "model": model, "choices": [{"index": 0, "finish_reason": "stop",
                                         "message": {"role": "assistant", "content": content}}],
            "childguard": extra}


def _chunk(cid: str, model: str, content: str | None, finish: str | None = None,
           extra: dict[str, Any] | None = None) -> str:
    delta = {"content": content} if content is not None else {}
    chunk = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
             "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return "data: " + json.dumps(chunk | ({"childguard": extra} if extra else {})) + "\n\n"


def _safe_text(decision: Decision) -> str:
    text = decision.message or "Let's talk about something else."
    for r in decision.resources[:2]:
        text += f"\n- {r.name}" + (f": {r.phone}" if r.phone else "") + (f" ({r.url})" if r.url and not r.phone else "")
    return text


def conversation_key(profile_ref: str) -> str:
    """Gateway conversations are keyed by the keyed hash of the profile, never by the raw id, so
    withdrawal of consent can find and delete them."""
    return "gateway:" + profile_ref


def _redacted(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The conversation as the upstream gets it: the child's personal data redacted (5b), the client's
    system prompts dropped (ours comes first)."""
    return [{**m, "content": redact_personal_data(m["content"])} if m.get("role") == "user"
            and isinstance(m.get("content"), str) else m for m in messages if m.get("role") != "system"]


def _nudged(nudge: str | None) -> str:
    return f"\n\n{nudge}" if nudge else ""


def _disclosed(disclosure: str | None) -> str:
    """The AI-disclosure reminder goes first, before the answer (SB 243: "at the beginning")."""
    return f"{disclosure}\n\n" if disclosure else ""


class Gateway:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.settings, self.guard, self.store = services.settings, services.guard, services.store
        self._client: AsyncChatClient | None = None

    @property
    def client(self) -> AsyncChatClient:
        """One client for the service's lifetime: creating one loads the CA bundle (~30 ms) and a shared
        one keeps upstream connections alive. Never retries: a child is waiting for the answer."""
        if self._client is None:
            if not self.settings.upstream_url:
                raise ConfigError(NO_UPSTREAM)
            endpoint = ChatEndpoint(self.settings.upstream_url, self.settings.upstream_api_key)
            self._client = AsyncChatClient(endpoint, self.settings.upstream_timeout_s, max_connections=64,
                                           max_keepalive=32)
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _parse(self, body: dict[str, Any]) -> tuple[list[dict[str, Any]], str, dict[str, Any], str | None]:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
            raise InvalidInputError("'messages' must be a non-empty list of {role, content} objects")
        users = [m for m in messages if m.get("role") == "user"]
        if not users or not isinstance(users[-1].get("content"), str):
            raise InvalidInputError("the last user message must have string 'content'")
        ext = body.get("childguard") or {}
        if not isinstance(ext, dict):
            raise InvalidInputError("'childguard' must be an object with age, lang, country, profile, time")
        profile = ext.get("profile", body.get("user"))
        if profile is not None and (not isinstance(profile, str) or not profile.strip()):
            raise InvalidInputError("'user' (or childguard.profile) must be a non-empty string id of the child profile")
        return messages, users[-1]["content"], ext, profile

    def _check_input(self, last: str, ext: dict[str, Any], profile: str | None
                     ) -> tuple[Decision, Action, str | None, list[str], str | None, CaseRecord | None]:
        """The core decision on the child's message and, with a profile, the conversation's view of it:
        (decision, overall action, nudge, conversation finding kinds, AI-disclosure reminder, the case to
        record). CPU work, plus the conversation state store: runs in the decision pool."""
        age, lang, country = ext.get("age"), ext.get("lang"), ext.get("country")
        disclosure = None
        if profile is None:
            decision = self.guard.check(last, age=age, lang=lang, role="child", country=country)
            action, nudge, kinds = decision.action, None, []
        else:
            ref = self.store.profile_ref(profile)
            result = self.services.conversations.observe(
                {"conversation": conversation_key(ref), "sender": "child", "role": "child", "text": last,
                 "age": age, "lang": lang, "country": country, "time": ext.get("time")}, profile_ref=ref)
            # attachment findings (4f) do not stop the answer: the model still answers, under the age-band
            # prompt, and the child gets the nudge with it; only escalations change what happens to the turn
            kinds, decision, nudge = result.escalations, result.message_decision, result.nudge
            disclosure = result.disclosure
            action = Action.ESCALATE if kinds and not decision.action.needs_human else decision.action
        self.services.counter.count(decision, "gateway")
        case = self.store.case_record(decision, last, "gateway", "system", profile, kinds)
        return decision, action, nudge, kinds, disclosure, case

    async def handle(self, body: dict[str, Any]) -> JSONResponse | StreamingResponse:
        check_json(body, self.settings.max_request_chars)
        messages, last, ext, profile = self._parse(body)
        if self.services.consent_needed(ext.get("country"), ext.get("age")):
            await self.services.store_pool.run(self.services.require_consent, profile, "chat", ext.get("country"),
                                               ext.get("age"))
        model = str(self.settings.upstream_model or body.get("model") or "childguard")[:200]
        decision, action, nudge, _, disclosure, case = await self.services.decisions.run(
            self._check_input, last, ext, profile)
        recorded, case_id = (await self.services.recorder.record(case)) if case is not None else (None, None)
        info: dict[str, Any] = {"input_action": action.value, "flagged": decision.flagged,
                                "review_required": action.needs_human, "case_id": case_id, "recorded": recorded,
                                "nudge": nudge, "disclosure": disclosure}
        stream = bool(body.get("stream"))
        if action.intervenes:
            if "emotional_dependency" in decision.flagged:
                nudge = info["nudge"] = None  # the answer already is the attachment nudge; say it once
            if action in CONTESTABLE:  # the child can say it was a mistake (3i)
                info["contest_token"] = await self._contest_token(
                    decision.model_copy(update={"action": action}), last, "gateway", profile)
            return self._reply(_disclosed(disclosure) + _safe_text(decision) + _nudged(nudge), model,
                               info | {"upstream_called": False},
                               stream)
        if not self.settings.upstream_url:
            return error_response(503, "no_upstream", NO_UPSTREAM)
        forward = [{"role": "system", "content": system_prompt(decision.age_band, decision.guidance)}]
        forward += await self.services.decisions.run(_redacted, messages)
        # the child's profile id (`user`) stays here: the upstream gets no identifier (5b)
        payload = {**{k: v for k, v in body.items() if k not in ("childguard", "user")}, "messages": forward,
                   "model": model}
        if stream:
            return StreamingResponse(self._stream(payload, model, decision, nudge, disclosure),
                                     media_type="text/event-stream")
        try:
            content = (await self.client.complete(payload)).text
        except UpstreamError as exc:
            return error_response(502, "upstream_error", f"upstream failed: {exc}")
        out = await self._check_output(content, decision)
        if out.action.stops:
            content = _safe_text(out)
        content = _disclosed(disclosure) + content + _nudged(nudge)
        return JSONResponse(_completion(content, model, info | {"upstream_called": True,
                                                                "output_action": out.action.value}))

    async def _contest_token(self, decision: Decision, text: str, source: str, profile: str | None) -> str | None:
        try:
            return await self.services.store_pool.run(self.services.issue_contest, decision, text, source, profile)
        except StoreUnavailableError:  # a slow store: the safe answer goes out without a token
            return None

    async def _check_output(self, text: str, decision: Decision, final: bool = True) -> Decision:
        """`final`: the last check of an answer, the one the transparency report counts. The request was
        admitted already, so the check waits for a worker rather than failing half-way through an answer."""
        out = await self.services.decisions.run(
            self.guard.check, text, age=decision.age_band, lang=decision.lang if decision.lang != "und" else None,
            role="ai_output", admitted=True)
        if final or out.action.stops:
            self.services.counter.count(out, "gateway_output")
        return out

    def _reply(self, text: str, model: str, info: dict[str, Any], stream: bool) -> JSONResponse | StreamingResponse:
        if not stream:
            return JSONResponse(_completion(text, model, info))

        async def one() -> AsyncIterator[str]:
            cid = f"chatcmpl-{uuid.uuid4().hex}"
            yield _chunk(cid, model, text)
            yield _chunk(cid, model, None, "stop", info)  # the last chunk carries the decision (contest token)
            yield "data: [DONE]\n\n"

        return StreamingResponse(one(), media_type="text/event-stream")

    async def _stream(self, payload: dict[str, Any], model: str, decision: Decision, nudge: str | None,
                      disclosure: str | None = None) -> AsyncIterator[str]:
        """Release text only once it has been checked together with everything before it; hold back the
        last `stream_holdback_chars` so a harmful sentence is caught before the child sees its start."""
        cid, hold = f"chatcmpl-{uuid.uuid4().hex}", self.settings.stream_holdback_chars
        text, released, cut = "", 0, False
        if disclosure:
            yield _chunk(cid, model, _disclosed(disclosure))
        try:
            async with self.client.stream(payload) as deltas:
                async for delta in deltas:
                    text += delta
                    if len(text) - released > hold + 40:  # check in steps, not per token
                        out = await self._check_output(text, decision, final=False)
                        if out.action.stops:
                            cut = True
                            yield _chunk(cid, model, ("\n\n" if released else "") + _safe_text(out))
                            break
                        upto = len(text) - hold
                        yield _chunk(cid, model, text[released:upto])
                        released = upto
        except UpstreamError as exc:  # named by what went wrong underneath (ReadTimeout, HTTPStatusError)
            count_upstream_error("/v1/chat/completions", "stream")
            yield _chunk(cid, model, f"\n\n(the answer stopped: upstream error {type(exc.__cause__ or exc).__name__})")
            cut = True
        if not cut:
            out = await self._check_output(text, decision)
            if out.action.stops:
                yield _chunk(cid, model, ("\n\n" if released else "") + _safe_text(out))
            elif released < len(text):
                yield _chunk(cid, model, text[released:])
        if nudge:
            yield _chunk(cid, model, _nudged(nudge))
        yield _chunk(cid, model, None, "stop")
        yield "data: [DONE]\n\n"
