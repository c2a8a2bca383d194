"""A review case as data, before it is written: what a spool line holds and what `Store.save_case`
writes. Built once, where the decision is made, with the excerpt already redacted and cut, so a spooled
case carries no more of the child's words than the stored one would (5b). `key` makes a write
idempotent: a case written by a late store call and again by the spool replay is one case."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field


class ThreadMove(BaseModel):
    """A turn that first showed a stage, and when (ISO 8601 UTC, to the second; None: not known)."""

    model_config = ConfigDict(frozen=True)

    turn: int
    stage: str
    time: str | None = None


class ThreadFinding(BaseModel):
    """A conversation finding as the API returns it; `evidence` names turns and stages, never text."""

    model_config = ConfigDict(frozen=True)

    kind: str
    action: str
    risk: float
    evidence: list[str] = Field(default_factory=list)
    moved: list[ThreadMove] = Field(default_factory=list)


class ThreadTurn(BaseModel):
    """One escalating turn of a conversation case's timeline."""

    model_config = ConfigDict(frozen=True)

    turn: int
    time: datetime
    role: str
    action: str
    findings: list[ThreadFinding] = Field(default_factory=list)


class CaseRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str = Field(default_factory=lambda: uuid.uuid4().hex, description="idempotency key of the write")
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    source: str
    severity: int
    age_band: str
    lang: str
    categories: list[str]
    reasons: list[str]
    excerpt: str | None = Field(None, description="redacted and cut; sealed by the store")
    actor: str = "system"
    profile_ref: str | None = None
    reference_hash: str | None = None
    contact: str | None = Field(None, description="only when a child chose to leave one; sealed by the store")
    thread_ref: str | None = Field(None, description="keyed hash of the conversation: one open case per thread")
    turn: ThreadTurn | None = Field(None, description="the conversation turn that opened or updated the case")
    fold_key: str | None = Field(None, description="reports: equal keys show as one queue item (a flood)")
