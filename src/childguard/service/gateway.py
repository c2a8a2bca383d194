"""OpenAI-compatible chat gateway in front of any OpenAI-compatible upstream (4a, 4d, 4f, 5b).

Each turn: the child's message is checked first and, when it must not go on, answered with a
child-friendly safe completion without calling the upstream; the child's personal data is redacted
before it leaves; an age-band system prompt is added; the upstream's answer is checked before the
child sees it, in streaming too (a window of text is held back and checked, and unsafe text is cut
off and replaced). With a child profile (`user`, as in OpenAI's API) the turn also goes through the
conversation guard, so long sessions, late nights and "you are my only friend" earn a gentle nudge
(4f); services that need parental consent can require it per profile (5b).

The parts live beside it: what the upstream gets of the conversation (upstream_messages.py: every
message kind redacted, client instructions below the safety prompt, tool results checked), the
child's redacted data put back in the answer (restoring.py), the per-client share of the upstream
connections (upstream_share.py), what a failure tells the child and the client (upstream_failure.py)
and which part of a stream to check next (stream_window.py)."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from fastapi.responses import JSONResponse, StreamingResponse

from ..agebands import AgeBand
from ..chat_client import AsyncChatClient, ChatEndpoint
from ..content_parts import read_content
from ..conversation.monitor import parse_message
from ..conversation.schema import ConversationDecision, ConversationMessage
from ..decision import Decision
from ..errors import ChildGuardError, ConfigError, InvalidInputError, StoreUnavailableError, UpstreamError
from ..fields import check_json
from ..policy import Action
from ..restoring import RedactionVault
from ..store.contests import CONTESTABLE
from ..store.records import CaseRecord
from .chat_cases import ChatTurn, answer_case, message_case
from .context import Services
from .conversation_turns import observe_turn
from .metrics import count_upstream_error
from .responses import error_response
from .stream_window import StreamWindow
from .upstream_failure import child_message, operator_message
from .upstream_messages import ForwardPolicy, UpstreamMessages, redact_tool_calls, upstream_body
from .upstream_share import UpstreamShare

log = logging.getLogger("childguard.gateway")

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


def _completion(content: str, model: str, extra: dict[str, Any],
                tool_calls: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content} | ({"tool_calls": tool_calls} if tool_calls
                                                                          else {})
    return {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
            "model": model, "choices": [{"index": 0, "finish_reason": "tool_calls" if tool_calls else "stop",
                                         "message": message}],
            "childguard": extra}


def _chunk(cid: str, model: str, content: str | None, finish: str | None = None,
           extra: dict[str, Any] | None = None, tool_calls: list[dict[str, Any]] | None = None) -> str:
    delta: dict[str, Any] = {"content": content} if content is not None else {}
    if tool_calls:
        delta["tool_calls"] = [{"index": i, **call} for i, call in enumerate(tool_calls)]
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


def _nudged(nudge: str | None) -> str:
    return f"\n\n{nudge}" if nudge else ""


def _disclosed(disclosure: str | None) -> str:
    """The AI-disclosure reminder goes first, before the answer (SB 243: "at the beginning")."""
    return f"{disclosure}\n\n" if disclosure else ""


@dataclass
class Turn:
    """What the gateway decided about the child's message, before any model is asked."""

    decision: Decision
    action: Action
    nudge: str | None
    kinds: list[str]
    disclosure: str | None
    case: CaseRecord | None
    note: str | None = None  # said before the answer: the child's personal data was left out of the question
    chat: ChatTurn | None = None  # the chat and turn a model answer's case joins (chat_cases.py)


class Gateway:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.settings, self.guard, self.store = services.settings, services.guard, services.store
        self._client: AsyncChatClient | None = None
        s = self.settings
        self.share = UpstreamShare(s.upstream_max_connections, s.upstream_client_share)
        self.policy = ForwardPolicy(s.client_instructions, s.tool_results, s.tool_arguments)
        self.last_call = "none yet"  # for /readyz: the outcome of the latest upstream call in this process

    @property
    def client(self) -> AsyncChatClient:
        """One client for the service's lifetime: creating one loads the CA bundle (~30 ms) and a shared
        one keeps upstream connections alive. Never retries: a child is waiting for the answer."""
        if self._client is None:
            s = self.settings
            if not s.upstream_url:
                raise ConfigError(NO_UPSTREAM)
            endpoint = ChatEndpoint(s.upstream_url, s.upstream_api_key)
            self._client = AsyncChatClient(endpoint, s.upstream_timeout_s, max_connections=s.upstream_max_connections,
                                           max_keepalive=max(1, s.upstream_max_connections // 2),
                                           first_byte_s=s.upstream_first_byte_timeout_s)
        return self._client

    def upstream_status(self) -> dict[str, Any]:
        """For /readyz: whether a model is configured and how the last call went (no URL: readiness is
        public). The gateway is optional, so this never makes the service "not ready"."""
        if not self.settings.upstream_url:
            return {"configured": False}
        return {"configured": True, "model": self.settings.upstream_model, "last_call": self.last_call,
                "timeouts_s": {"first_byte": self.settings.upstream_first_byte_timeout_s,
                               "total": self.settings.upstream_timeout_s},
                "per_client_connections": self.share.per_client}

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _parse(self, body: dict[str, Any]) -> tuple[list[dict[str, Any]], str, dict[str, Any], str | None]:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
            raise InvalidInputError("'messages' must be a non-empty list of {role, content} objects")
        users = [m for m in messages if m.get("role") == "user"]
        if not users:
            raise InvalidInputError("the conversation needs a user message (the child's) with 'content'")
        last = ""
        for i, m in enumerate(messages):  # every user message: parts it cannot check are refused, not forwarded
            if not isinstance(m.get("content"), str | list | None):
                raise InvalidInputError(f"messages[{i}].content: must be a string, a list of content parts or null")
            if m.get("role") == "user":
                if not isinstance(m.get("content"), str | list):
                    raise InvalidInputError(f"messages[{i}].content: a user message needs a string or a list of "
                                            "content parts")
                content = read_content(m["content"], self.settings.image_parts, f"messages[{i}].content")
                last = content.text
        ext = body.get("childguard") or {}
        if not isinstance(ext, dict):
            raise InvalidInputError("'childguard' must be an object with age, lang, country, profile, time")
        profile = ext.get("profile", body.get("user"))
        if profile is not None and (not isinstance(profile, str) or not profile.strip()):
            raise InvalidInputError("'user' (or childguard.profile) must be a non-empty string id of the child profile")
        return messages, last, ext, profile

    def _conversation_message(self, last: str, ext: dict[str, Any], ref: str) -> ConversationMessage:
        return parse_message(
            {"conversation": conversation_key(ref), "sender": "child", "role": "child", "text": last,
             "age": ext.get("age"), "lang": ext.get("lang"), "country": ext.get("country"), "time": ext.get("time")})

    def _check_input(self, last: str, ext: dict[str, Any], profile: str | None,
                     observed: tuple[ConversationMessage, ConversationDecision] | None = None) -> Turn:
        """The core decision on the child's message and, with a profile, the conversation's view of it
        (`observed`: made before, its state I/O in the store pool, conversation_turns.py). CPU work: runs
        in the decision pool."""
        age, lang, country = ext.get("age"), ext.get("lang"), ext.get("country")
        disclosure, message, result = None, None, None
        if observed is None:
            decision = self.guard.check(last, age=age, lang=lang, role="child", country=country)
            action, nudge, kinds = decision.action, None, []
        else:
            message, result = observed
            # attachment findings (4f) do not stop the answer: the model still answers, under the age-band
            # prompt, and the child gets the nudge with it; only escalations change what happens to the turn
            kinds, decision, nudge = result.escalations, result.message_decision, result.nudge
            disclosure = result.disclosure
            action = Action.ESCALATE if kinds and not decision.action.needs_human else decision.action
        self.services.counter.count(decision, "gateway")
        case, chat = message_case(self.store, decision, last, profile, kinds, message, result)
        turn = Turn(decision, action, nudge, kinds, disclosure, case, chat=chat)
        return self._answer_the_rest(turn, last, ext)

    def _answer_the_rest(self, turn: Turn, last: str, ext: dict[str, Any]) -> Turn:
        """A question that only stopped because the child shared personal data ("I go to Oak Primary, what
        is a fraction?") is answered without the data: the data is redacted (it never leaves), the rest is
        checked on its own, and the child hears first why their details were left out."""
        d = turn.decision
        if not d.flagged or set(d.flagged) - {"personal_data"} or turn.kinds or not turn.action.intervenes \
                or turn.action.needs_human:
            return turn
        rest = RedactionVault(restore=False).redact(last)
        if rest == last:  # nothing of the child's own to remove (e.g. asking for someone else's address)
            return turn
        again = self.guard.check(rest, age=ext.get("age"), lang=ext.get("lang"), role="child",
                                 country=ext.get("country"))
        if again.action.intervenes:
            return turn
        return Turn(again, again.action, turn.nudge, [], turn.disclosure, None, note=d.message, chat=turn.chat)

    async def handle(self, body: dict[str, Any], client: str = "anonymous") -> JSONResponse | StreamingResponse:
        """`client`: who is asking (API key or address), for its share of the upstream connections."""
        check_json(body, self.settings.max_request_chars)
        messages, last, ext, profile = self._parse(body)
        if self.services.consent_needed(ext.get("country"), ext.get("age")):
            await self.services.store_pool.run(self.services.require_consent, profile, "chat", ext.get("country"),
                                               ext.get("age"))
        model = str(self.settings.upstream_model or body.get("model") or "childguard")[:200]
        observed = None
        if profile is not None:
            ref = self.store.profile_ref(profile)
            message = self._conversation_message(last, ext, ref)
            observed = message, await observe_turn(self.services, self.services.conversations, message, ref)
        turn = await self.services.decisions.run(self._check_input, last, ext, profile, observed,
                                                 admitted=observed is not None)
        decision, action, nudge, disclosure = turn.decision, turn.action, turn.nudge, turn.disclosure
        recorded, case_id = (await self.services.recorder.record(turn.case)) if turn.case is not None else (None, None)
        info: dict[str, Any] = {"input_action": action.value, "flagged": decision.flagged,
                                "review_required": action.needs_human, "case_id": case_id, "recorded": recorded,
                                "nudge": nudge, "disclosure": disclosure,
                                "personal_data_removed": turn.note is not None}
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
        vault = RedactionVault(restore=self.settings.restore_redacted)
        forward, withheld = await self.services.decisions.run(  # admitted: the turn is under way already
            self._forward, messages, system_prompt(decision.age_band, decision.guidance), vault, decision,
            admitted=True)
        info["tool_results_withheld"] = withheld
        # the child's profile id (`user`) stays here: the upstream gets no identifier (5b)
        payload = upstream_body(body, forward, model)
        lead = _disclosed(disclosure) + (f"{turn.note}\n\n" if turn.note else "")
        if stream:
            return StreamingResponse(self._stream(payload, model, decision, nudge, lead, info, vault, client, profile,
                                                  turn.chat), media_type="text/event-stream")
        try:
            with self.share.slot(client):
                completion = await self.client.complete(payload)
        except UpstreamError as exc:
            return self._failed(exc, decision, info)
        self.last_call = "ok"
        out, out_case = await self._check_output(completion.text, decision, profile, chat=turn.chat)
        replaced = out.action.stops
        content = _safe_text(out) if replaced else vault.restore(completion.text)
        content = lead + content + _nudged(nudge)
        calls = None if replaced else self._model_tool_calls(completion.tool_calls, vault)
        return JSONResponse(_completion(content, model, info | {"upstream_called": True, "replaced": replaced,
                                                                "output_action": out.action.value,
                                                                "output_case_id": out_case}, calls))

    def _model_tool_calls(self, calls: tuple[dict[str, Any], ...], vault: RedactionVault) -> list[dict[str, Any]]:
        """The functions the model asks the client to run. Their arguments may go on to a third party (a
        search, a web API), so the child's data in them stays redacted: placeholders are not restored."""
        if self.policy.tool_arguments == "pass":
            return list(calls)
        redacted: list[dict[str, Any]] = redact_tool_calls(list(calls), vault.redact)
        return redacted

    def _forward(self, messages: list[dict[str, Any]], prompt: str, vault: RedactionVault,
                 decision: Decision) -> tuple[list[dict[str, Any]], int]:
        """The conversation as the upstream gets it (CPU: runs in the decision pool)."""
        def unsafe(text: str) -> bool:  # a tool result or client instruction the model may pass to the child
            try:
                return self._output_decision(text, decision).action.stops
            except ChildGuardError:  # too long or not checkable: not given to the model
                return True

        builder = UpstreamMessages(vault, self.policy, unsafe)
        return builder.build(messages, prompt), builder.withheld

    def _failed(self, exc: UpstreamError, decision: Decision, info: dict[str, Any]) -> JSONResponse:
        """The operator's log gets the upstream's URL and details; the client gets what went wrong in
        general words and a message for the child, in the child's language."""
        self._note_failure(exc)
        return error_response(exc.http_status, "upstream_busy" if exc.http_status == 429 else "upstream_error",
                              operator_message(exc), retry_after=getattr(exc, "retry_after", None),
                              child_message=child_message(decision.lang),
                              childguard=info | {"upstream_called": exc.http_status != 429})

    def _note_failure(self, exc: UpstreamError) -> None:
        if exc.http_status == 429:  # a flood of these is the share working: not a warning per request
            log.debug("chat refused, client over its upstream share: %s", exc)
            return
        self.last_call = f"failed ({type(exc).__name__})"
        log.warning("chat model call failed: %s", exc)

    async def _contest_token(self, decision: Decision, text: str, source: str, profile: str | None) -> str | None:
        try:
            return await self.services.store_pool.run(self.services.issue_contest, decision, text, source, profile)
        except StoreUnavailableError:  # a slow store: the safe answer goes out without a token
            return None

    def _output_decision(self, text: str, decision: Decision) -> Decision:
        return self.guard.check(text, age=decision.age_band, lang=decision.lang if decision.lang != "und" else None,
                                role="ai_output")

    async def _check_output(self, text: str, decision: Decision, profile: str | None,
                            final: bool = True, chat: ChatTurn | None = None) -> tuple[Decision, int | None]:
        """`final`: the last check of an answer, the one the transparency report counts. The request was
        admitted already, so the check waits for a worker rather than failing half-way through an answer.
        An answer that must be escalated opens a review case, or joins its chat's (`chat`), as an escalating
        child message does (4i)."""
        out = await self.services.decisions.run(self._output_decision, text, decision, admitted=True)
        case_id = None
        if final or out.action.stops:
            self.services.counter.count(out, "gateway_output")
            case = answer_case(self.store, out, text, profile, chat)
            if case is not None:
                case_id = (await self.services.recorder.record(case)).case_id
        return out, case_id

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
                      lead: str, info: dict[str, Any], vault: RedactionVault, client: str,
                      profile: str | None, chat: ChatTurn | None = None) -> AsyncIterator[str]:
        """Release text only once it has been checked (stream_window.py: each check sees the new text and
        a carry-over of what came before, so the cost is linear in the answer); hold back the last
        `stream_holdback_chars` so a harmful sentence is caught before the child sees its start. The last
        chunk always carries the `childguard` decision, also when the answer was replaced or failed."""
        cid = f"chatcmpl-{uuid.uuid4().hex}"
        window = StreamWindow(self.settings.stream_holdback_chars, carry=self.settings.window_chars)
        info = info | {"upstream_called": True, "replaced": False, "output_action": None, "output_case_id": None}
        if lead:
            yield _chunk(cid, model, lead)

        tool_calls: tuple[dict[str, Any], ...] = ()
        calls: list[dict[str, Any]] = []

        async def replace(out: Decision, case_id: int | None) -> str:
            info.update(replaced=True, output_action=out.action.value, output_case_id=case_id)
            return _chunk(cid, model, ("\n\n" if window.released else "") + _safe_text(out))

        try:
            with self.share.slot(client):
                async with self.client.stream(payload) as deltas:
                    async for delta in deltas:
                        window.add(delta)
                        while window.ready() and not info["replaced"]:
                            out, case_id = await self._check_output(window.window(), decision, profile, final=False,
                                                                    chat=chat)
                            if out.action.stops:
                                yield await replace(out, case_id)
                                break
                            piece = window.release(vault.safe_cut)
                            if not piece:
                                break
                            yield _chunk(cid, model, vault.restore(piece))
                        if info["replaced"]:
                            break
                    tool_calls = deltas.tool_calls
            self.last_call = "ok"
        except UpstreamError as exc:  # what was not checked yet is dropped; the child hears why, kindly
            count_upstream_error("/v1/chat/completions", "stream")
            self._note_failure(exc)
            info.update(upstream_error=exc.code, upstream_called=exc.http_status != 429)
            yield _chunk(cid, model, ("\n\n" if window.released else "") + child_message(decision.lang))
        if not info["replaced"] and "upstream_error" not in info:
            out, case_id = await self._check_output(window.window(final=True), decision, profile, chat=chat)
            if out.action.stops:
                yield await replace(out, case_id)
            else:
                info["output_action"] = out.action.value
                if window.pending:
                    yield _chunk(cid, model, vault.restore(window.release_rest()))
                calls = self._model_tool_calls(tool_calls, vault)
        if nudge:
            yield _chunk(cid, model, _nudged(nudge))
        if calls:  # after the text, whole: the client runs them once the answer is known to be safe
            yield _chunk(cid, model, None, tool_calls=calls)
        yield _chunk(cid, model, None, "tool_calls" if calls else "stop", info)
        yield "data: [DONE]\n\n"
