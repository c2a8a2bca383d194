"""The review cases of a gateway chat: one per chat, like the conversation API's (4i). A chat is the
conversation key the gateway derives from the child's profile (`user`); the child's escalating message and
the model's escalating answer later in the same chat update one case, and each adds a timeline entry naming
its turn and whose words did it (`child`: the message; `ai_output`: the model's answer to that turn).
Without a profile there is no chat to join, and each escalation opens its own case, as before."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..conversation.schema import ConversationDecision, ConversationMessage
from ..decision import Decision
from ..store.records import CaseRecord, ThreadTurn
from ..store.store import Store
from .case_threads import thread_turn

SOURCE = "gateway"  # the surface whose conversations the chat cases are keyed under (Store.thread_ref)


@dataclass(frozen=True, slots=True)
class ChatTurn:
    """The chat and turn the model's answer belongs to, for the answer's timeline entry."""

    conversation: str
    turn: int
    time: datetime


def message_case(store: Store, decision: Decision, text: str, profile: str | None, kinds: list[str],
                 message: ConversationMessage | None = None,
                 result: ConversationDecision | None = None) -> tuple[CaseRecord | None, ChatTurn | None]:
    """The case the child's message opens or joins (None when it escalates nothing), and the chat turn."""
    if message is None or result is None:
        return store.case_record(decision, text, SOURCE, "system", profile, kinds), None
    turn = thread_turn(message, result)
    case = store.case_record(decision, text, SOURCE, "system", profile, kinds, conversation=message.conversation,
                             turn=turn)
    return case, ChatTurn(message.conversation, turn.turn, turn.time)


def answer_case(store: Store, out: Decision, text: str, profile: str | None,
                chat: ChatTurn | None) -> CaseRecord | None:
    """The case the model's answer opens or joins; its entry carries the turn it answered."""
    case = store.case_record(out, text, "gateway_output", "system", profile)
    if case is None or chat is None:
        return case
    return case.model_copy(update={
        "thread_ref": store.thread_ref(SOURCE, chat.conversation),
        "turn": ThreadTurn(turn=chat.turn, time=chat.time, role="ai_output", action=out.action.value)})
