"""One conversation turn in the service, split by what each part waits on (issue 18, item 2): the
state load, the age-assurance webhook and the state update are I/O and run in a store pool with a
budget (`conversation_io`: the store pool's size and timeout, its own threads, so a paused Redis or a
slow provider does not queue the database's case writes either); the message's inspection and the
provider's answer applied to it are CPU and run in the decision pool. A paused Redis or a hanging
webhook then holds I/O threads for their budget, never the two decision workers that children's
reports and moderations need.

A state store that does not answer in time costs the conversation's view, not the answer: the message
is judged alone and the decision says `degraded`; a webhook that does not answer in time counts as
`provider_unavailable` (the younger band applies unless the operator turned that off)."""

from __future__ import annotations

import logging

from ..age_assurance import AssuranceAnswer, AssuranceOutcome
from ..conversation.monitor import ConversationGuard
from ..conversation.schema import ConversationDecision, ConversationMessage
from ..conversation.state import ConversationState
from ..errors import StoreUnavailableError
from .context import Services

log = logging.getLogger("childguard.conversation")
WEBHOOK_SLACK_S = 0.5  # beyond the webhook's own timeout, for the thread hop


async def observe_turn(services: Services, monitor: ConversationGuard, msg: ConversationMessage,
                       profile_ref: str | None = None, admitted: bool = False) -> ConversationDecision:
    """`monitor.observe`, with each part in the pool it belongs to. `admitted`: see DecisionPool.run."""
    degraded = False
    peek: ConversationState | None = None
    try:
        peek = await services.conversation_io.run(monitor.load, msg)
    except StoreUnavailableError as exc:
        log.warning("conversation state unavailable, judging the message alone: %s", exc)
        degraded = True
    draft = await services.decisions.run(monitor.inspect, msg, peek, degraded, admitted=admitted)
    if draft.ask is not None:
        budget = services.settings.age_assurance_timeout_s + WEBHOOK_SLACK_S
        try:
            answer = await services.conversation_io.run_with(budget, monitor.assure, draft, profile_ref)
        except StoreUnavailableError:
            answer = AssuranceAnswer(AssuranceOutcome.UNAVAILABLE)
        draft = await services.decisions.run(monitor.settle, draft, answer, admitted=True)
    if not draft.degraded:
        try:
            draft = await services.conversation_io.run(monitor.commit, draft)
        except StoreUnavailableError as exc:  # the store pool's budget ran out before the state store's
            log.warning("conversation state unavailable, judging the message alone: %s", exc)
            draft.degraded = True
    return monitor.decide(draft)
