"""Bounded thread pools for the work an async endpoint must not do on the event loop.

`decisions`: the CPU-bound part of a request (classification, conversation analysis, redaction). It has
a fixed number of workers and a bounded queue, counted on the loop: a request that finds it full is
refused at once with 503 and Retry-After (back-pressure) instead of joining a backlog that makes every
client time out. The loop itself only parses, routes and answers, so `/healthz` stays fast while the
workers are saturated; the GIL is released between bytecode slices, and real parallelism on a
multi-core host comes from `childguard serve --workers N`.

`store`: database calls, each with a timeout, so a hung database costs a request its timeout and
never the loop (the thread may stay blocked until the connection fails; the pool bounds how many)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from sqlalchemy.exc import InterfaceError, OperationalError

from ..errors import OverloadedError, StoreUnavailableError
from .metrics import OVERLOADED, QUEUE_CAPACITY, QUEUE_DEPTH

P = ParamSpec("P")
T = TypeVar("T")


class Threads:
    """A thread pool that can be shut down with the app and comes back with it (tests and ASGI servers
    may run an app's lifespan more than once)."""

    def __init__(self, threads: int, name: str) -> None:
        self._threads, self._name = threads, name
        self._executor: ThreadPoolExecutor | None = None

    @property
    def pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=self._threads, thread_name_prefix=self._name)
        return self._executor

    def shutdown(self, wait: bool = False) -> None:
        """`wait`: finish what was submitted (spool appends) instead of cancelling it."""
        if self._executor is not None:
            self._executor.shutdown(wait=wait, cancel_futures=not wait)
            self._executor = None


class DecisionPool(Threads):
    def __init__(self, threads: int, queue: int) -> None:
        super().__init__(threads, "cg-decide")
        self.capacity = threads + queue
        self._in_flight = 0
        QUEUE_CAPACITY.set(self.capacity)

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def run(self, fn: Callable[..., T], *args: Any, admitted: bool = False, **kwargs: Any) -> T:
        """`admitted`: work of a request already under way (the checks of a streamed answer) waits for a
        worker instead of being refused."""
        if self._in_flight >= self.capacity and not admitted:
            OVERLOADED.inc()
            raise OverloadedError(f"all decision workers are busy ({self.capacity} requests in flight); retry "
                                  "in a moment")
        self._in_flight += 1
        QUEUE_DEPTH.inc()
        try:
            return await asyncio.get_running_loop().run_in_executor(self.pool, functools.partial(fn, *args, **kwargs))
        finally:
            self._in_flight -= 1
            QUEUE_DEPTH.dec()


class StorePool(Threads):
    def __init__(self, threads: int, timeout_s: float, name: str = "cg-store") -> None:
        super().__init__(threads, name)
        self.timeout_s = timeout_s

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn` in a store thread; StoreUnavailableError when it takes longer than the timeout or the
        database refuses. A call still queued at the timeout is cancelled; one already running finishes
        (or fails) on its own, which is why writes that must not be lost carry an idempotency key."""
        return await self.run_with(self.timeout_s, fn, *args, **kwargs)

    async def run_with(self, timeout_s: float, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        future = asyncio.get_running_loop().run_in_executor(self.pool, functools.partial(fn, *args, **kwargs))
        try:
            return await asyncio.wait_for(future, timeout_s)
        except TimeoutError as exc:
            raise StoreUnavailableError(f"the database did not answer within {timeout_s:g} s; retry later") from exc
        except (OperationalError, InterfaceError) as exc:
            raise StoreUnavailableError(f"the database is unreachable ({type(exc.orig).__name__}); retry "
                                        "later") from exc
