"""The detector extension point: one small protocol, one registry.

A detector looks at one message and returns findings (category or topic, score, evidence). It
never decides what to do; the policy does. New detectors register a factory by name and are
switched on in settings (`CHILDGUARD_DETECTORS='["classifier","llm_guard"]'`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from ..agebands import AgeBand
from ..errors import ConfigError
from ..normalize import NormalizedText
from ..settings import Settings

Role = Literal["child", "ai_output", "contact"]
ROLES: tuple[Role, ...] = ("child", "ai_output", "contact")


@dataclass(frozen=True, slots=True)
class Finding:
    """One signal. `label` is a taxonomy category id or `topic:<id>`; `evidence` is already redacted."""

    label: str
    score: float
    detector: str
    evidence: str = ""
    start: int | None = None
    end: int | None = None


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


DetectorFactory = Callable[[Settings], Detector]
_REGISTRY: dict[str, DetectorFactory] = {}


def register_detector(name: str) -> Callable[[DetectorFactory], DetectorFactory]:
    def wrap(factory: DetectorFactory) -> DetectorFactory:
        _REGISTRY[name] = factory
        return factory

    return wrap


def available_detectors() -> list[str]:
    _load_builtins()
    return sorted(_REGISTRY)


def build_detectors(names: list[str], settings: Settings) -> list[Detector]:
    _load_builtins()
    unknown = [n for n in names if n not in _REGISTRY]
    if unknown:
        raise ConfigError(f"unknown detector(s) {unknown}; available: {sorted(_REGISTRY)}")
    return [_REGISTRY[n](settings) for n in names]


def _load_builtins() -> None:
    from . import classifier, llm_guard, patterns  # noqa: F401  (registration side effect)
