"""Conversation-aware protection: each new message is checked on its own (the core decision) and
against what the conversation has shown so far (the analysers), in O(1) state per conversation."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from ..errors import ConfigError, InvalidInputError, StoreUnavailableError
from ..guard import Guard
from ..messages import choose_nudge
from ..policy import Action
from ..settings import Settings, get_settings
from .analyzers import ConversationAnalyzer, build_analyzers
from .models import ConversationDecision, ConversationFinding, ConversationMessage
from .state import ConversationState, MemoryStateStore, RedisStateStore, StateStore

log = logging.getLogger("childguard.conversation")

NUDGE_FOR = {"emotional_dependency": "nudge.attachment", "late_night": "nudge.late_night",
             "long_session": "nudge.long_session", "ai_encourages_dependency": "nudge.attachment"}


def build_store(settings: Settings) -> StateStore:
    if settings.conversation_store == "memory":
        return MemoryStateStore(settings.max_conversations, settings.conversation_ttl_s)
    if settings.conversation_store == "redis":
        return RedisStateStore(settings.redis_url, settings.conversation_ttl_s)
    raise ConfigError(f"conversation_store must be 'memory' or 'redis', not {settings.conversation_store!r}")


def parse_message(raw: ConversationMessage | Mapping[str, Any]) -> ConversationMessage:
    if isinstance(raw, ConversationMessage):
        return raw
    try:
        return ConversationMessage.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'message'}: {e['msg']}" for e in exc.errors())
        raise InvalidInputError(f"invalid conversation message: {problems}") from exc


class ConversationGuard:
    def __init__(self, guard: Guard | None = None, store: StateStore | None = None,
                 analyzers: list[ConversationAnalyzer] | None = None, settings: Settings | None = None) -> None:
        self.settings = settings or (guard.settings if guard else get_settings())
        self.guard = guard or Guard(self.settings)
        self.store = store or build_store(self.settings)
        self.analyzers = analyzers if analyzers is not None else build_analyzers(
            self.settings.conversation_analyzers, self.settings)

    def observe(self, raw: ConversationMessage | Mapping[str, Any]) -> ConversationDecision:
        """Judge one message against the conversation so far. When the state store is down the message
        is still judged on its own (a child saying "i want to kill myself" gets the safe answer and
        helplines, never an error) and the decision says it is `degraded`."""
        msg = parse_message(raw)
        inspection = self.guard.inspect(msg.text, age=msg.age, lang=msg.lang, role=msg.role, country=msg.country)
        at = msg.time.timestamp() if msg.time else time.time()

        def step(prior: ConversationState | None) -> tuple[ConversationState, list[ConversationFinding]]:
            state = prior or ConversationState(started=at, session_start=at)
            if state.last and at - state.last >= self.settings.session_gap_s:
                state.session_start = at
            state.last = max(state.last, at)
            state.turns += 1
            return state, [f for a in self.analyzers for f in a.update(state, msg, inspection, at)]

        degraded = False
        try:
            state, findings = self.store.update(msg.conversation, step)
            turn = state.turns
        except StoreUnavailableError as exc:
            log.warning("conversation state unavailable, judging the message alone: %s", exc)
            degraded, findings, turn = True, [], 0

        decision = inspection.decision
        relaxed = {c for f in findings for c in f.relaxes}
        base = Action.ALLOW if decision.flagged and set(decision.flagged) <= relaxed else decision.action
        action = max([base, *(f.action for f in findings)], key=lambda a: a.rank)
        nudge = None
        for f in findings:
            if f.kind in NUDGE_FOR and msg.role != "contact":
                nudge = choose_nudge(NUDGE_FOR[f.kind], decision.message_lang)
                break
        return ConversationDecision(conversation=msg.conversation, turn=turn, action=action,
                                    message_decision=decision, findings=findings, nudge=nudge,
                                    review_required=action.rank >= 4, degraded=degraded)

    def check_conversation(self, messages: Iterable[ConversationMessage | Mapping[str, Any]]
                           ) -> list[ConversationDecision]:
        return [self.observe(m) for m in messages]

    def forget(self, conversation: str) -> None:
        """Delete what is kept about a conversation (withdrawal of consent, end of retention)."""
        self.store.delete(conversation)
