"""Conversation-level moderation for social apps and games (4i): send each message of a chat as it
happens; the answer combines the message decision with what the conversation has shown so far
(grooming stages, harassment, dependency). State is memory or Redis (`CHILDGUARD_CONVERSATION_STORE`),
so several service workers share it."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path
from pydantic import Field

from ..conversation.dialogue import DialogueDecision, DialogueMessage, DialogueRequest, parse_dialogue
from ..conversation.schema import ConversationDecision, ConversationMessage
from ..errors import StoreUnavailableError
from ..fields import Name, check_budget
from ..store.contests import CONTESTABLE
from ..store.records import CaseRecord
from .case_threads import thread_turn
from .context import Services, ServicesDep
from .conversation_turns import observe_turn


class ConversationTurn(ConversationMessage):
    profile: Name | None = Field(None, description="child profile id, for consent and withdrawal")


router = APIRouter(prefix="/v1/conversations", tags=["conversations"])


def _case(services: Services, body: ConversationTurn,
          result: ConversationDecision) -> CaseRecord | None:
    services.counter.count(result.message_decision, "conversation")
    return services.store.case_record(result.message_decision, body.text, "conversation", profile=body.profile,
                                      findings=result.escalations, conversation=body.conversation,
                                      turn=thread_turn(body, result))


async def _contest_token(services: Services, body: ConversationTurn, result: ConversationDecision) -> None:
    """The token write is database I/O: in the store pool with its budget, never in a decision worker;
    a store that does not answer in time costs the token, not the decision."""
    decision = result.message_decision
    if body.role == "child" and result.action in CONTESTABLE:  # the conversation's action, not only the message's
        try:
            decision.contest_token = await services.store_pool.run(
                services.issue_contest, decision.model_copy(update={"action": result.action}), body.text,
                "conversation", body.profile)
        except StoreUnavailableError:
            decision.contest_token = None


@router.post("/messages", response_model=ConversationDecision)
async def message(body: ConversationTurn, services: ServicesDep) -> ConversationDecision:
    check_budget([body.text], services.settings.max_request_chars)
    if services.consent_needed(body.country, body.age):
        await services.store_pool.run(services.require_consent, body.profile, "conversation_monitoring",
                                      body.country, body.age)
    # the state (Redis) and the webhook in the store pool, the analysis in the decision pool
    # (conversation_turns.py); the case write after it
    withdrawn = False
    if body.profile:  # a withdrawn profile is judged, and its conversation state is not written again
        try:
            record = await services.store_pool.run(services.consents.status, body.profile)
            withdrawn = record is not None and record.status == "withdrawn"
        except StoreUnavailableError:
            withdrawn = False  # unknown: the case write below still checks the tombstone itself
    monitor = services.stateless_conversations if withdrawn else services.conversations
    ref = services.store.profile_ref(body.profile) if body.profile else None
    result = await observe_turn(services, monitor, body, profile_ref=ref)
    case = await services.decisions.run(_case, services, body, result, admitted=True)
    await _contest_token(services, body, result)
    if case is not None:
        result.recorded = (await services.recorder.record(case)).recorded
    return result


class DialogueResult(DialogueDecision):
    recorded: Literal["stored", "spooled"] | None = Field(
        None, description="for an escalated dialogue: its review case is in the database, or spooled while it is "
        "unreachable; null when no case is opened")


def _check(services: Services, body: DialogueRequest,
           messages: list[DialogueMessage]) -> tuple[DialogueResult, CaseRecord | None]:
    decided = services.guard.check_conversation(messages, child=body.child, age=body.age, lang=body.lang,
                                                country=body.country)
    result = DialogueResult.model_validate(decided, from_attributes=True)
    for turn in result.turns:
        if turn.decision is not None:
            services.counter.count(turn.decision.message_decision, "conversation")
    case = None
    if result.review_required:  # one case for the dialogue, opened at its first escalating turn (4i)
        worst = next(t for t in result.turns if t.decision is not None and t.decision.action.needs_human)
        assert worst.decision is not None
        case = services.store.case_record(worst.decision.message_decision, messages[worst.index].text(),
                                          "conversation", profile=body.profile, findings=result.escalations)
    return result, case


@router.post("/check", response_model=DialogueResult)
async def check(body: DialogueRequest, services: ServicesDep) -> DialogueResult:
    """A whole OpenAI-style dialogue in one call, judged turn by turn and as a whole; no conversation state
    is kept (an escalation opens a review case, as a single message's would)."""
    messages = parse_dialogue(body.messages, services.settings.max_dialogue_messages)
    check_budget([m.text() for m in messages], services.settings.max_request_chars)
    if services.consent_needed(body.country, body.age):
        await services.store_pool.run(services.require_consent, body.profile, "conversation_monitoring",
                                      body.country, body.age)
    result, case = await services.decisions.run(_check, services, body, messages)
    if case is not None:
        result.recorded = (await services.recorder.record(case)).recorded
    return result


@router.delete("/{conversation}", status_code=204)
def forget(conversation: Annotated[Name, Path()], services: ServicesDep) -> None:
    services.conversations.forget(conversation)
