"""A named registry of factories: the one extension mechanism behind detectors and conversation
analysers, so new parts plug in by name from settings instead of through if-chains."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from .errors import ConfigError
from .settings import Settings

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._factories: dict[str, Callable[[Settings], T]] = {}

    def register(self, name: str) -> Callable[[Callable[[Settings], T]], Callable[[Settings], T]]:
        def wrap(factory: Callable[[Settings], T]) -> Callable[[Settings], T]:
            self._factories[name] = factory
            return factory

        return wrap

    def names(self) -> list[str]:
        return sorted(self._factories)

    def build(self, names: list[str], settings: Settings) -> list[T]:
        unknown = [n for n in names if n not in self._factories]
        if unknown:
            raise ConfigError(f"unknown {self.kind}(s) {unknown}; available: {self.names()}")
        return [self._factories[n](settings) for n in names]
