"""Conversation-aware protection: each new message is checked on its own (the core decision) and
against what the conversation has shown so far (the analysers), in O(1) state per conversation."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import ValidationError

from ..age_assurance import AgeAssuranceClient, AssuranceAnswer, AssuranceOutcome
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


@dataclass
class TurnDraft:
    """One message on its way through a turn: what `inspect` decided, what the provider is still to be
    asked (`ask`), and what `commit` found in the conversation."""

    msg: ConversationMessage
    at: float
    band: AgeBand
    inspection: Inspection
    scratch: ConversationState  # the age band and question this turn adds to the stored state
    age_check: str | None
    ask: AgeBand | None
    degraded: bool = False
    findings: list[ConversationFinding] = field(default_factory=list)
    turn: int = 0


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
        and helplines, never an error) and the decision says it is `degraded`.

        The parts run in order here; the service runs the I/O ones (`load`, `assure`, `commit`) in its
        store pool and the CPU ones (`inspect`, `settle`, `decide`) in its decision pool (turn.py)."""
        msg = parse_message(raw)
        try:
            peek: ConversationState | None = self.load(msg)
            degraded = False
        except StoreUnavailableError as exc:
            log.warning("conversation state unavailable, judging the message alone: %s", exc)
            peek, degraded = None, True
        draft = self.inspect(msg, peek, degraded)
        if draft.ask is not None:
            draft = self.settle(draft, self.assure(draft, profile_ref))
        return self.decide(self.commit(draft))

    def load(self, msg: ConversationMessage) -> ConversationState | None:
        """I/O: the state so far, for the band in force (the update in `commit` is atomic on its own)."""
        return self.store.load(msg.conversation)

    def inspect(self, msg: ConversationMessage, peek: ConversationState | None, degraded: bool = False) -> TurnDraft:
        """CPU: the message's own decision in the band the conversation is in, and what its age signals
        ask of the age-assurance provider (`ask`)."""
        at = msg.time.timestamp() if msg.time else time.time()
        band = parse_age(msg.age, self.settings.default_age_band)
        if peek is not None and peek.age_band is not None:  # the youngest band this conversation showed stays (4c)
            band = younger(band, AgeBand(peek.age_band))
        inspection = self.guard.inspect(msg.text, age=band, lang=msg.lang, role=msg.role, country=msg.country)
        # the age-assurance call (network) happens once, outside the atomic update, on a scratch copy
        scratch = ConversationState(age_band=peek.age_band if peek else None,
                                    age_asked=peek.age_asked if peek else None)
        age_check, ask = self._age_signals(scratch, inspection, band)
        return TurnDraft(msg, at, band, inspection, scratch, age_check, ask, degraded)

    def assure(self, draft: TurnDraft, profile_ref: str | None) -> AssuranceAnswer:
        """I/O: ask the provider about `draft.ask` (only the profile's keyed hash and the band leave)."""
        if draft.ask is None or self.assurance is None or profile_ref is None:
            return AssuranceAnswer(AssuranceOutcome.UNAVAILABLE)
        return self.assurance.verify(profile_ref, draft.ask)

    def settle(self, draft: TurnDraft, answer: AssuranceAnswer) -> TurnDraft:
        """CPU: apply the provider's answer; never looser than the band in force, and a message decided
        again in the younger band once it applies."""
        implied, band, outcome = draft.ask, draft.band, answer.outcome
        if implied is None:
            return draft
        draft.scratch.age_asked = implied.value
        draft = replace(draft, ask=None, age_check=outcome.value)
        if outcome is AssuranceOutcome.NOT_CONFIRMED or (
                outcome is AssuranceOutcome.UNAVAILABLE and not self.settings.age_assurance_fail_closed):
            return draft
        applied = younger(band, answer.band or implied)
        if applied is band:
            return draft
        draft.scratch.age_band = applied.value
        msg = draft.msg
        again = self.guard.inspect(msg.text, age=applied, lang=msg.lang, role=msg.role, country=msg.country)
        return replace(draft, inspection=again)

    def commit(self, draft: TurnDraft) -> TurnDraft:
        """I/O: the atomic read-modify-write of the conversation's state (the analysers' step runs on
        the stored state, again when another worker wrote first). A store that is down costs the
        conversation's view, never the message's own decision: the draft comes back `degraded`."""
        if draft.degraded:
            return draft
        msg, at, scratch, inspection = draft.msg, draft.at, draft.scratch, draft.inspection

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

        try:
            state, findings = self.store.update(msg.conversation, step)
        except StoreUnavailableError as exc:
            log.warning("conversation state unavailable, judging the message alone: %s", exc)
            return replace(draft, degraded=True)
        return replace(draft, findings=findings, turn=state.turns)

    def decide(self, draft: TurnDraft) -> ConversationDecision:
        """CPU (light): the conversation's action from the message's decision and the findings."""
        msg, findings, decision = draft.msg, draft.findings, draft.inspection.decision
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
        return ConversationDecision(conversation=msg.conversation, turn=draft.turn, action=action,
                                    message_decision=decision, findings=findings, nudge=nudge,
                                    review_required=action.needs_human, age_check=draft.age_check,
                                    disclosure=disclosure, degraded=draft.degraded)

    def _age_signals(self, state: ConversationState, inspection: Inspection,
                     band: AgeBand) -> tuple[str | None, AgeBand | None]:
        """Keep the youngest strong band in the state (the band, never the evidence, 5b). In "switch"
        mode the guard has already decided this message for it; in "verify" mode the band to ask the
        provider about comes back (`settle` applies its answer)."""
        implied = youngest_strong(inspection.decision.age_signals, self.settings.age_signal_min_confidence)
        if implied is None or younger(implied, band) is not implied:
            return None, None  # no signal, or one older than the band in force: never looser
        if implied is band:  # the band in force, now known from the child: remember it, nothing to switch
            state.age_band = band.value
            return None, None
        if self.settings.age_signal_mode == "switch":
            state.age_band = implied.value
            return "switched", None
        if state.age_asked is not None and younger(implied, AgeBand(state.age_asked)) is not implied:
            return None, None  # this band was already asked about and not confirmed: do not nag
        return None, implied

    def check_conversation(self, messages: Iterable[ConversationMessage | Mapping[str, Any]]
                           ) -> list[ConversationDecision]:
        return [self.observe(m) for m in messages]

    def forget(self, conversation: str) -> None:
        """Delete what is kept about a conversation (withdrawal of consent, end of retention)."""
        self.store.delete(conversation)
