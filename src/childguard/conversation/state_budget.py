"""A time budget and a circuit breaker around a remote conversation-state store (Redis). Each call runs
in the store's own small thread pool and gets `timeout_s` (the service's store budget, 1 s); a call
that runs out opens the breaker for `open_s` (1 s), during which every call fails at once. So
a paused Redis costs about one waiting call a second: the others are judged on their own at once
(`degraded`). The service calls the store from its store pool, never from a decision worker
(service/conversation_turns.py), so children's reports and moderations keep their workers meanwhile."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

from ..errors import StoreUnavailableError
from .state import ConversationState, StateStore, Step

T = TypeVar("T")
R = TypeVar("R")


class BudgetedStateStore:
    def __init__(self, inner: StateStore, timeout_s: float = 1.0, open_s: float = 1.0, threads: int = 4) -> None:
        self.inner, self.timeout_s, self.open_s = inner, timeout_s, open_s
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="cg-state")
        self._open_until = 0.0
        self._lock = threading.Lock()

    def _call(self, fn: Callable[..., R], *args: Any) -> R:
        if time.monotonic() < self._open_until:
            raise StoreUnavailableError("the conversation state store failed a moment ago; judging messages "
                                        "on their own until it answers again")
        try:
            return self._pool.submit(fn, *args).result(timeout=self.timeout_s)
        except FutureTimeout as exc:  # a refused connection fails fast by itself; only slowness trips
            with self._lock:
                self._open_until = time.monotonic() + self.open_s
            raise StoreUnavailableError(f"the conversation state store did not answer within {self.timeout_s:g} "
                                        "s; check CHILDGUARD_REDIS_URL") from exc

    def load(self, conversation: str) -> ConversationState | None:
        return self._call(self.inner.load, conversation)

    def update(self, conversation: str, step: Step[T]) -> tuple[ConversationState, T]:
        return self._call(self.inner.update, conversation, step)

    def save(self, conversation: str, state: ConversationState) -> None:
        self._call(self.inner.save, conversation, state)

    def delete(self, conversation: str) -> None:
        """Withdrawal and retention must not be skipped by an open breaker: always tried, with the budget."""
        future = self._pool.submit(self.inner.delete, conversation)
        try:
            future.result(timeout=self.timeout_s)
        except FutureTimeout as exc:
            raise StoreUnavailableError(f"the conversation state store did not answer within {self.timeout_s:g} "
                                        "s; nothing was deleted, retry") from exc
