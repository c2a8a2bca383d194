"""A named registry of factories: the one extension mechanism behind detectors, conversation analysers
and audit judges, so new parts plug in by name from configuration instead of through if-chains."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Generic, TypeVar

from .errors import ConfigError
from .settings import Settings

C = TypeVar("C")
T = TypeVar("T")


class FactoryRegistry(Generic[C, T]):
    """Factories that build a `T` from a configuration `C`; the audit's judges are configured by its
    command line rather than by `Settings`, so the configuration type is a parameter."""

    def __init__(self, kind: str, package: str | None = None) -> None:
        """`package`: a package whose every module registers its parts on import, so adding a part is
        adding a file; it is imported on the first lookup, not at start-up of code that never builds one."""
        self.kind = kind
        self.package = package
        self._factories: dict[str, Callable[[C], T]] = {}
        self._discovered = False

    def _discover(self) -> None:
        if self._discovered or self.package is None:
            return
        for module in pkgutil.iter_modules(importlib.import_module(self.package).__path__):
            importlib.import_module(f"{self.package}.{module.name}")
        self._discovered = True  # only once every module imported: a failing one fails each lookup

    def register(self, name: str) -> Callable[[Callable[[C], T]], Callable[[C], T]]:
        def wrap(factory: Callable[[C], T]) -> Callable[[C], T]:
            self._factories[name] = factory
            return factory

        return wrap

    def names(self) -> list[str]:
        self._discover()
        return sorted(self._factories)

    def build(self, names: list[str], config: C) -> list[T]:
        self._discover()
        unknown = [n for n in names if n not in self._factories]
        if unknown:
            raise ConfigError(f"unknown {self.kind}(s) {unknown}; available: {self.names()}")
        return [self._factories[n](config) for n in names]


class Registry(FactoryRegistry[Settings, T]):
    """Parts built from the service's `Settings` (detectors, conversation analysers)."""
