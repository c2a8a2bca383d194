"""A whole dialogue judged in one call (like Llama Guard's conversation mode): an OpenAI-style message list
in, a decision per turn and one for the dialogue out. The turns go through the same analysers as the
live conversation monitor (grooming stages, bullying, dependency), replayed in order against a state
that lives only for this call, so nothing about the dialogue is kept afterwards (5b)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import InvalidInputError
from ..fields import Code, Name
from ..policy import Action
from .schema import ConversationDecision, ConversationFinding, ConversationMessage
from .state import MemoryStateStore

if TYPE_CHECKING:
    from ..guard import Guard

OpenAIRole = Literal["system", "developer", "user", "assistant", "tool"]
Speaker = Literal["child", "contact", "ai_output"]
# the role each OpenAI role is judged in; instructions to the model never reach the child and are not judged
_SPEAKER: dict[str, Speaker | None] = {"user": "child", "assistant": "ai_output", "tool": "ai_output",
                                       "system": None, "developer": None}
DIALOGUE = "dialogue"  # the conversation id inside one call; no id the caller gives is ever stored


class ToolFunction(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str | None = None
    arguments: str | None = None


class ToolCall(BaseModel):
    model_config = ConfigDict(extra="ignore")

    function: ToolFunction | None = None


class DialogueMessage(BaseModel):
    """One OpenAI chat message. `content` may be a string or a list of parts (only text parts are read);
    an assistant message without content is judged by its tool-call arguments, the text it sends on."""

    model_config = ConfigDict(extra="ignore")

    role: OpenAIRole
    content: str | list[dict[str, Any]] | None = None
    name: Name | None = Field(None, description="who wrote a user message, in group chats (OpenAI `name`)")
    tool_calls: list[ToolCall] | None = None

    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        parts = [p.get("text") for p in self.content or [] if p.get("type") == "text"]
        text = "\n".join(p for p in parts if isinstance(p, str))
        if not text and self.tool_calls:
            text = "\n".join(c.function.arguments for c in self.tool_calls if c.function and c.function.arguments)
        return text


class DialogueTurn(BaseModel):
    index: int = Field(description="position of the message in the list")
    role: OpenAIRole
    speaker: Speaker | None = Field(description="how the turn was judged: child, contact (another user) or "
                                    "ai_output; null for system and developer messages, which are not judged")
    decision: ConversationDecision | None = None


class DialogueDecision(BaseModel):
    action: Action = Field(description="the strongest action over every turn and trajectory")
    review_required: bool = False
    findings: list[ConversationFinding] = Field(
        default_factory=list, description="what the dialogue shows across turns (grooming trajectory, harassment, "
        "dependency), the latest state of each kind")
    first_intervention: int | None = Field(None, description="index of the first turn whose action intervenes")
    turns: list[DialogueTurn]

    @property
    def escalations(self) -> list[str]:
        return [f.kind for f in self.findings if f.action.needs_human]


def parse_dialogue(messages: object, max_messages: int) -> list[DialogueMessage]:
    if isinstance(messages, str | bytes) or not isinstance(messages, Iterable):
        raise InvalidInputError("messages must be a list of OpenAI chat messages ({'role': ..., 'content': ...})")
    raw = list(messages)
    if not raw:
        raise InvalidInputError("messages is empty; send the dialogue's messages in order")
    if len(raw) > max_messages:
        raise InvalidInputError(f"{len(raw)} messages; at most {max_messages} per dialogue "
                                "(CHILDGUARD_MAX_DIALOGUE_MESSAGES), send the most recent ones")
    out = []
    for i, m in enumerate(raw):
        if isinstance(m, DialogueMessage):
            out.append(m)
            continue
        if not isinstance(m, Mapping):
            raise InvalidInputError(f"messages[{i}] is {type(m).__name__}, not a message object")
        try:
            out.append(DialogueMessage.model_validate(m))
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise InvalidInputError(f"messages[{i}] is not an OpenAI chat message: {problems}") from exc
    return out


def speaker_of(msg: DialogueMessage, child: str | None) -> Speaker | None:
    """A user message is the child's unless `child` names someone else: in a group chat the child is the
    user whose `name` is `child`, and every other user is a contact."""
    speaker = _SPEAKER[msg.role]
    if speaker == "child" and child is not None and msg.name is not None and msg.name != child:
        return "contact"
    return speaker


def check_dialogue(guard: Guard, messages: object, *, child: str | None = None, age: object = None,
                   lang: str | None = None, country: str | None = None) -> DialogueDecision:
    from .monitor import ConversationGuard

    parsed = parse_dialogue(messages, guard.settings.max_dialogue_messages)
    monitor = ConversationGuard(guard, MemoryStateStore(max_conversations=1), settings=guard.settings)
    turns: list[DialogueTurn] = []
    latest: dict[tuple[str, int], ConversationFinding] = {}  # per kind and first turn: one per sender or target
    for i, msg in enumerate(parsed):
        speaker = speaker_of(msg, child)
        if speaker is None:
            turns.append(DialogueTurn(index=i, role=msg.role, speaker=None))
            continue
        sender = {"child": child or "child", "contact": msg.name or "contact", "ai_output": "assistant"}[speaker]
        turn = ConversationMessage(conversation=DIALOGUE, sender=sender, role=speaker, text=msg.text(),
                                   age=_age(age), lang=lang, country=country)
        decided = monitor.observe(turn)
        for f in decided.findings:
            latest[(f.kind, f.since_turn)] = f
        turns.append(DialogueTurn(index=i, role=msg.role, speaker=speaker, decision=decided))
    judged = [t for t in turns if t.decision is not None]
    action = max([Action.ALLOW, *(t.decision.action for t in judged if t.decision)], key=lambda a: a.rank)
    first = next((t.index for t in judged if t.decision and t.decision.action.intervenes), None)
    findings = sorted(latest.values(), key=lambda f: f.since_turn)
    return DialogueDecision(action=action, review_required=action.needs_human, findings=findings,
                            first_intervention=first, turns=turns)


def _age(age: object) -> int | str | None:
    """ConversationMessage takes an age as a number or a band code; anything else is refused there."""
    if age is None or isinstance(age, int | str):
        return age
    raise InvalidInputError(f"age must be a number of years or an age band, not {type(age).__name__}")


class DialogueRequest(BaseModel):
    """`POST /v1/conversations/check`: the dialogue and who the child is."""

    model_config = ConfigDict(extra="ignore")

    messages: list[dict[str, Any]] = Field(description="OpenAI chat messages, oldest first")
    child: Name | None = Field(None, description="the `name` of the child's user messages in a group chat; "
                               "default: every user message is the child's")
    age: int | Code | None = None
    lang: Code | None = None
    country: Code | None = None
    profile: Name | None = Field(None, description="child profile id, for consent and withdrawal")
