"""A named registry of factories: the one extension mechanism behind detectors, conversation analysers
and audit judges, so new parts plug in by name from configuration instead of through if-chains."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from .errors import ConfigError
from .settings import Settings

C = TypeVar("C")
T = TypeVar("T")


class FactoryRegistry(Generic[C, T]):
    """Factories that build a `T` from a configuration `C`; the audit's judges are configured by its
    command line rather than by `Settings`, so the configuration type is a parameter."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._factories: dict[str, Callable[[C], T]] = {}

    def register(self, name: str) -> Callable[[Callable[[C], T]], Callable[[C], T]]:
        def wrap(factory: Callable[[C], T]) -> Callable[[C], T]:
            self._factories[name] = factory
            return factory

        return wrap

    def names(self) -> list[str]:
        return sorted(self._factories)

    def build(self, names: list[str], config: C) -> list[T]:
        unknown = [n for n in names if n not in self._factories]
        if unknown:
            raise ConfigError(f"unknown {self.kind}(s) {unknown}; available: {self.names()}")
        return [self._factories[n](config) for n in names]


class Registry(FactoryRegistry[Settings, T]):
    """Parts built from the service's `Settings` (detectors, conversation analysers)."""
