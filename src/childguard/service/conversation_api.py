"""Conversation-level moderation for social apps and games (4i): send each message of a chat as it
happens; the answer combines the message decision with what the conversation has shown so far
(grooming stages, harassment, dependency). State is memory or Redis (`CHILDGUARD_CONVERSATION_STORE`),
so several service workers share it."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from ..conversation.models import ConversationDecision, ConversationMessage
from ..errors import ConsentRequiredError
from ..policy import Action
from .context import Services


class ConversationTurn(ConversationMessage):
    profile: str | None = Field(None, max_length=200, description="child profile id, for consent and withdrawal")


def conversation_router(services: Services) -> APIRouter:
    router = APIRouter(prefix="/v1/conversations", tags=["conversations"])

    def observe(body: ConversationTurn) -> ConversationDecision:
        if services.settings.require_consent and (
                body.profile is None or not services.consents.allows(body.profile, "conversation_monitoring")):
            raise ConsentRequiredError("this service needs parental consent (scope 'conversation_monitoring') for "
                                       "the child profile: record it with POST /v1/consents")
        result = services.conversations.observe(body)
        services.counter.count(result.message_decision, "conversation")
        kinds = [f.kind for f in result.findings if f.action.rank >= Action.ESCALATE.rank]
        services.store.open_case(result.message_decision, body.text, "conversation", profile=body.profile,
                                 findings=kinds)
        return result

    @router.post("/messages", response_model=ConversationDecision)
    async def message(body: ConversationTurn) -> ConversationDecision:
        # a thread: the Redis state store and the case store block
        return await run_in_threadpool(observe, body)

    @router.delete("/{conversation}", status_code=204)
    def forget(conversation: str) -> None:
        services.conversations.forget(conversation)

    return router
