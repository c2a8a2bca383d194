"""Typed messages and results of conversation-level checks (4i): the harms that only show across turns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..decision import Decision
from ..fields import Code, Name
from ..policy import Action


class ConversationMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    conversation: Name = Field(min_length=1, description="conversation id")
    sender: Name = Field(min_length=1, description="who wrote it (pseudonymous id)")
    role: Code = Field("child", description="child | contact | ai_output")
    text: str
    time: datetime | None = Field(None, description="ISO 8601; local offset matters for late-night checks")
    target: Name | None = Field(None, description="who it is aimed at, for group chats; default: the child")
    age: int | Code | None = None
    lang: Code | None = None
    country: Code | None = None

    @field_validator("time")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class StageMove(BaseModel):
    """A turn that first showed a grooming stage, and when: UTC to the second, nothing else of the turn (5b)."""

    model_config = ConfigDict(frozen=True)

    turn: int
    stage: str
    time: datetime | None = Field(None, description="UTC, to the second; null for a turn kept before times were")


class ConversationFinding(BaseModel):
    """A harm seen across turns. `evidence` names stages or counts, never message text (5b)."""

    model_config = ConfigDict(frozen=True)

    kind: str
    action: Action
    risk: float
    evidence: list[str] = Field(default_factory=list)
    clauses: list[str] = Field(default_factory=list)
    text: str
    since_turn: int = Field(description="turn at which the first signal of this finding was seen")
    relaxes: list[str] = Field(default_factory=list,
                               description="message-level categories this finding explains as harmless here")
    moved: list[StageMove] = Field(default_factory=list,
                                   description="grooming: the turn that first showed each stage, with its time")


class ConversationDecision(BaseModel):
    conversation: str
    turn: int
    action: Action = Field(description="the stronger of the message decision and the conversation findings")
    message_decision: Decision
    findings: list[ConversationFinding] = Field(default_factory=list)
    nudge: str | None = Field(None, description="gentle child-facing nudge (4f), in the child's language")
    review_required: bool = False
    disclosure: str | None = Field(None, description="'you are talking with an AI' reminder to show first (SB 243)")
    age_check: str | None = Field(None, description="what a strong signal of a younger age led to: switched | "
                                  "confirmed | not_confirmed | provider_unavailable (4c)")
    recorded: Literal["stored", "spooled"] | None = Field(
        None, description="service only: the review case is in the database, or spooled while it is unreachable")
    degraded: bool = Field(False, description="the conversation state store could not be reached: this answer "
                           "judges the message alone (its safe decision and helplines stand); patterns across "
                           "turns resume when the store is back")

    @property
    def escalations(self) -> list[str]:
        """Kinds of the findings that escalate on their own (a human should review the conversation)."""
        return [f.kind for f in self.findings if f.action.needs_human]
