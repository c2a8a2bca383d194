"""Conversation-level moderation for social apps and games (4i): send each message of a chat as it
happens; the answer combines the message decision with what the conversation has shown so far
(grooming stages, harassment, dependency). State is memory or Redis (`CHILDGUARD_CONVERSATION_STORE`),
so several service workers share it."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from ..conversation.models import ConversationDecision, ConversationMessage
from ..store.contests import CONTESTABLE
from .context import Services


class ConversationTurn(ConversationMessage):
    profile: str | None = Field(None, max_length=200, description="child profile id, for consent and withdrawal")


def conversation_router(services: Services) -> APIRouter:
    router = APIRouter(prefix="/v1/conversations", tags=["conversations"])

    def observe(body: ConversationTurn) -> ConversationDecision:
        services.require_consent(body.profile, "conversation_monitoring", body.country, body.age)
        ref = services.store.profile_ref(body.profile) if body.profile else None
        result = services.conversations.observe(body, profile_ref=ref)
        services.counter.count(result.message_decision, "conversation")
        services.store.open_case(result.message_decision, body.text, "conversation", profile=body.profile,
                                 findings=result.escalations)
        decision = result.message_decision
        if body.role == "child" and result.action in CONTESTABLE:  # the conversation's action, not only the message's
            decision.contest_token = services.contests.issue(decision.model_copy(update={"action": result.action}),
                                                             body.text, "conversation", body.profile)
        return result

    @router.post("/messages", response_model=ConversationDecision)
    async def message(body: ConversationTurn) -> ConversationDecision:
        # a thread: the Redis state store and the case store block
        return await run_in_threadpool(observe, body)

    @router.delete("/{conversation}", status_code=204)
    def forget(conversation: str) -> None:
        services.conversations.forget(conversation)

    return router
