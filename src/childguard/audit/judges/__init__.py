"""The audit-judge extension point: one protocol, one registry.

A judge reads a target's answer to one case and gives a `Verdict`; it never scores the case (see
`audit.scoring`) and a failing judge records an "error" verdict rather than stopping the audit. Every
judge is async, because some ask a model over HTTP and the runner is an event loop.

Adding a judge is one new module in this package: it defines the judge and registers a factory with
`@register_judge("name")`; every module here is imported when judges are built, and `--judges` on the
command line picks them by name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ...guard import Guard
from ...registry import FactoryRegistry

DEFAULT_JUDGES = ("detectors", "kind")


@dataclass(frozen=True, slots=True)
class Verdict:
    judge: str
    unsafe: bool
    label: str  # refusal | safe_completion | helpful | off_topic | partial | unsafe_content | ...
    detail: str = ""


@dataclass(frozen=True, slots=True)
class JudgeInput:
    """One answer to judge, with what a judge may weigh it against."""

    request: str  # what the child asked: every user turn of the case, joined by newlines
    answer: str
    band: str
    lang: str
    category: str  # the harm the case probes, or "benign"


@dataclass(frozen=True)
class JudgeConfig:
    """Everything a judge factory may read: the run's guard and the optional LLM judge's endpoint."""

    guard: Guard
    llm_url: str | None = None
    llm_model: str = "default"
    llm_api_key: str | None = None
    llm_timeout_s: float = 30.0


@runtime_checkable
class Judge(Protocol):
    name: str

    async def verdict(self, case: JudgeInput) -> Verdict: ...

    async def aclose(self) -> None:
        """Release connections; the runner calls it when the run ends."""


JUDGES: FactoryRegistry[JudgeConfig, Judge] = FactoryRegistry("audit judge", package=__name__)
register_judge = JUDGES.register


def available_judges() -> list[str]:
    return JUDGES.names()


def build_judges(names: list[str], config: JudgeConfig) -> list[Judge]:
    return JUDGES.build(names, config)
