"""The typed result of a check: what to do, why (with the Joint Statement clause), and what to tell
the child. JSON-serialisable as is, so every surface (CLI, HTTP, audit) shows the same object."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from .age_signals import AgeSignal
from .agebands import AgeBand
from .policy import Action


class Resource(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    phone: str | None = None
    sms: str | None = None
    url: str | None = None
    country: str | None = Field(None, description="ISO 3166 alpha-2, or None for global resources")


class Reason(BaseModel):
    """One line of the explanation an auditor or a child's parent can read (3c)."""

    model_config = ConfigDict(frozen=True)

    label: str = Field(description="category id, 'topic:<id>' or a system reason such as 'input'")
    action: Action
    score: float | None = None
    threshold: float | None = None
    detector: str | None = None
    clauses: list[str] = Field(default_factory=list)
    text: str
    kind: str | None = Field(None, description="machine id of what the evidence names (e.g. 'asks_personal_data', "
                             "'secrecy_request'), for code that must not match the wording of `text`")


class Decision(BaseModel):
    action: Action
    age_band: AgeBand
    role: str
    lang: str = Field(description="ISO 639 code of the text ('und' when undetermined)")
    lang_confidence: float
    message_lang: str = Field(description="language the child-facing message is written in")
    scores: dict[str, float] = Field(description="score of every taxonomy category, 0-1")
    flagged: list[str] = Field(description="categories at or above their threshold and acted on, strongest first "
                               "(a category read as a sensitive topic is in reasons, not here)")
    topics: list[str] = Field(description="sensitive-but-legitimate topics recognised (4d)")
    message: str | None = Field(description="short child-facing message; None when the action is allow")
    guidance: str | None = Field(None, description="how to answer, for adapt decisions")
    resources: list[Resource] = Field(default_factory=list)
    reasons: list[Reason] = Field(default_factory=list)
    obfuscations: list[str] = Field(default_factory=list)
    review_required: bool = False
    policy_version: str
    age_signals: list[AgeSignal] = Field(default_factory=list, description="what the text says about the "
                                         "writer's own age (kind, band, confidence; never the words), 4c")
    contest_token: str | None = Field(None, description="set by the service when a child's message is blocked or "
                                      "redirected: POST it to /v1/contests to say it was a mistake (3i)")

    @property
    def allowed(self) -> bool:
        return self.action in (Action.ALLOW, Action.ADAPT)
