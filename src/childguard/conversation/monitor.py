"""Conversation-aware protection: each new message is checked on its own (the core decision) and
against what the conversation has shown so far (the analysers), in O(1) state per conversation."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from ..age_assurance import AgeAssuranceClient, AssuranceOutcome
from ..age_signals import youngest_strong
from ..agebands import AgeBand, younger
from ..decision import Decision
from ..errors import ConfigError, InvalidInputError, StoreUnavailableError
from ..guard import Guard, Inspection
from ..inputs import parse_age
from ..messages import choose_nudge
from ..policy import Action
from ..settings import Settings, get_settings
from .analyzers import ConversationAnalyzer, build_analyzers
from .schema import ConversationDecision, ConversationFinding, ConversationMessage
from .state import ConversationState, MemoryStateStore, RedisStateStore, StateStore
from .state_budget import BudgetedStateStore

log = logging.getLogger("childguard.conversation")

NUDGE_FOR = {"emotional_dependency": "nudge.attachment", "late_night": "nudge.late_night",
             "long_session": "nudge.long_session", "ai_encourages_dependency": "nudge.attachment"}
# a nudge the message already says: the emotional-dependency answer begins "I'm an AI, not a person",
# so the attachment nudge and the AI reminder would say it twice in one reply
SAID_BY_MESSAGE = {"nudge.attachment": "emotional_dependency", "nudge.ai_disclosure": "emotional_dependency"}


def already_said(key: str, decision: Decision) -> bool:
    category = SAID_BY_MESSAGE.get(key)
    return (category is not None and decision.role == "child" and decision.message is not None
            and category in decision.flagged)


def build_store(settings: Settings) -> StateStore:
    if settings.conversation_store == "memory":
        return MemoryStateStore(settings.max_conversations, settings.conversation_ttl_s)
    if settings.conversation_store == "redis":  # the store budget per call, and a breaker (state_budget.py)
        return BudgetedStateStore(RedisStateStore(settings.redis_url, settings.conversation_ttl_s,
                                                  timeout_s=settings.store_timeout_s), settings.store_timeout_s)
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
                 analyzers: list[ConversationAnalyzer] | None = None, settings: Settings | None = None,
                 assurance: AgeAssuranceClient | None = None) -> None:
        self.settings = settings or (guard.settings if guard else get_settings())
        self.guard = guard or Guard(self.settings)
        self.store = store if store is not None else build_store(self.settings)  # an empty store is falsy
        self.analyzers = analyzers if analyzers is not None else build_analyzers(
            self.settings.conversation_analyzers, self.settings)
        self.assurance = assurance if assurance is not None else AgeAssuranceClient.from_settings(self.settings)

    def observe(self, raw: ConversationMessage | Mapping[str, Any],
                profile_ref: str | None = None) -> ConversationDecision:
        """Judge one message against the conversation so far. `profile_ref`: the keyed hash of the child
        profile, the only identifier the age-assurance webhook is given. When the state store is down the
        message is still judged on its own (a child saying "i want to kill myself" gets the safe answer
        and helplines, never an error) and the decision says it is `degraded`."""
        msg = parse_message(raw)
        at = msg.time.timestamp() if msg.time else time.time()
        degraded = False
        try:
            peek = self.store.load(msg.conversation)  # for the band in force; the update below is atomic
        except StoreUnavailableError as exc:
            log.warning("conversation state unavailable, judging the message alone: %s", exc)
            peek, degraded = None, True
        band = parse_age(msg.age, self.settings.default_age_band)
        if peek is not None and peek.age_band is not None:  # the youngest band this conversation showed stays (4c)
            band = younger(band, AgeBand(peek.age_band))
        inspection = self.guard.inspect(msg.text, age=band, lang=msg.lang, role=msg.role, country=msg.country)
        # the age-assurance call (network) happens once, outside the atomic update, on a scratch copy
        scratch = ConversationState(age_band=peek.age_band if peek else None,
                                    age_asked=peek.age_asked if peek else None)
        inspection, age_check = self._age_signals(scratch, msg, inspection, band, profile_ref)

        def step(prior: ConversationState | None) -> tuple[ConversationState, list[ConversationFinding]]:
            state = prior or ConversationState(started=at, session_start=at)
            if scratch.age_band is not None:
                state.age_band = (scratch.age_band if state.age_band is None
                                  else younger(AgeBand(state.age_band), AgeBand(scratch.age_band)).value)
            if scratch.age_asked is not None:
                state.age_asked = scratch.age_asked
            if state.last and at - state.last >= self.settings.session_gap_s:
                state.session_start = at
            state.last = max(state.last, at)
            state.turns += 1
            return state, [f for a in self.analyzers for f in a.update(state, msg, inspection, at)]

        findings: list[ConversationFinding] = []
        turn = 0
        if not degraded:
            try:
                state, findings = self.store.update(msg.conversation, step)
                turn = state.turns
            except StoreUnavailableError as exc:
                log.warning("conversation state unavailable, judging the message alone: %s", exc)
                degraded = True

        decision = inspection.decision
        relaxed = {c for f in findings for c in f.relaxes}
        base = Action.ALLOW if decision.flagged and set(decision.flagged) <= relaxed else decision.action
        action = max([base, *(f.action for f in findings)], key=lambda a: a.rank)
        nudge = None
        for f in findings:
            if f.kind in NUDGE_FOR and msg.role != "contact":
                if not already_said(NUDGE_FOR[f.kind], decision):
                    nudge = choose_nudge(NUDGE_FOR[f.kind], decision.message_lang)
                break
        disclosure = (choose_nudge("nudge.ai_disclosure", decision.message_lang)
                      if any(f.kind == "ai_disclosure" for f in findings)
                      and not already_said("nudge.ai_disclosure", decision) else None)
        return ConversationDecision(conversation=msg.conversation, turn=turn, action=action,
                                    message_decision=decision, findings=findings, nudge=nudge,
                                    review_required=action.needs_human, age_check=age_check, disclosure=disclosure,
                                    degraded=degraded)

    def _age_signals(self, state: ConversationState, msg: ConversationMessage, inspection: Inspection,
                     band: AgeBand, profile_ref: str | None) -> tuple[Inspection, str | None]:
        """Keep the youngest strong band in the state (the band, never the evidence, 5b). In "switch"
        mode the guard has already decided this message for it; in "verify" mode the provider is asked
        first and the message is decided again once it confirms."""
        implied = youngest_strong(inspection.decision.age_signals, self.settings.age_signal_min_confidence)
        if implied is None or younger(implied, band) is not implied:
            return inspection, None  # no signal, or one older than the band in force: never looser
        if implied is band:  # the band in force, now known from the child: remember it, nothing to switch
            state.age_band = band.value
            return inspection, None
        if self.settings.age_signal_mode == "switch":
            state.age_band = implied.value
            return inspection, "switched"
        if state.age_asked is not None and younger(implied, AgeBand(state.age_asked)) is not implied:
            return inspection, None  # this band was already asked about and not confirmed: do not nag
        outcome, confirmed = AssuranceOutcome.UNAVAILABLE, None
        if self.assurance is not None and profile_ref is not None:
            answer = self.assurance.verify(profile_ref, implied)
            outcome, confirmed = answer.outcome, answer.band
        state.age_asked = implied.value
        if outcome is AssuranceOutcome.NOT_CONFIRMED or (
                outcome is AssuranceOutcome.UNAVAILABLE and not self.settings.age_assurance_fail_closed):
            return inspection, outcome.value
        applied = younger(band, confirmed or implied)
        if applied is band:
            return inspection, outcome.value
        state.age_band = applied.value
        again = self.guard.inspect(msg.text, age=applied, lang=msg.lang, role=msg.role, country=msg.country)
        return again, outcome.value

    def check_conversation(self, messages: Iterable[ConversationMessage | Mapping[str, Any]]
                           ) -> list[ConversationDecision]:
        return [self.observe(m) for m in messages]

    def forget(self, conversation: str) -> None:
        """Delete what is kept about a conversation (withdrawal of consent, end of retention)."""
        self.store.delete(conversation)
