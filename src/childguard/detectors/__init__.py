"""The detector extension point: one small protocol, one registry.

A detector looks at one message and returns findings (category or topic, score, evidence). It
never decides what to do; the policy does. New detectors register a factory by name and are
switched on in settings (`CHILDGUARD_DETECTORS='["classifier","llm_guard"]'`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from ..agebands import AgeBand
from ..normalize import NormalizedText
from ..registry import Registry
from ..settings import Settings

Role = Literal["child", "ai_output", "contact"]
ROLES: tuple[Role, ...] = ("child", "ai_output", "contact")


@dataclass(frozen=True, slots=True)
class Finding:
    """One signal. `label` is a taxonomy category id or `topic:<id>`; `evidence` is already redacted and
    meant for people. `kind` is the stable machine id of what was found (`asks_personal_data`,
    `secrecy_request`), so code never has to match the wording of `evidence`; None when a detector
    has nothing finer than its label (a classifier head)."""

    label: str
    score: float
    detector: str
    evidence: str = ""
    start: int | None = None
    end: int | None = None
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class DetectionInput:
    text: str
    normalized: NormalizedText
    lang: str
    age_band: AgeBand
    role: Role


@runtime_checkable
class Detector(Protocol):
    name: str

    def detect(self, item: DetectionInput) -> list[Finding]: ...


# every module in this package registers its detectors on import: a new detector is one file here
DETECTORS: Registry[Detector] = Registry("detector", package=__name__)
register_detector = DETECTORS.register


def available_detectors() -> list[str]:
    return DETECTORS.names()


def build_detectors(names: list[str], settings: Settings) -> list[Detector]:
    return DETECTORS.build(names, settings)
