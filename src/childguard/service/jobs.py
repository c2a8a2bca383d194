"""Background jobs of the service: the retention purge (5c), the flush of aggregated counts (3c) and the
replay of spooled escalations and reports into the database once it answers again (4i).
They run inside the service process on its event loop, with the blocking store work in a thread, so a
plain `childguard serve` needs no cron; `childguard purge` runs the same purge once from outside."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool

from ..store import Store
from ..store.accounts import Accounts
from .context import Services

log = logging.getLogger("childguard.jobs")


def purge_once(store: Store, accounts: Accounts) -> dict[str, int]:
    return {"excerpts_purged": store.purge(), "sessions_expired": accounts.purge_sessions()}


async def _every(seconds: float, name: str, work: Callable[[], Awaitable[Any]]) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await work()
        except Exception:  # a failed run is logged and retried next time; the service keeps serving
            log.exception("job %s failed; will retry in %.0f s", name, seconds)


class Jobs:
    def __init__(self, services: Services) -> None:
        self.services = services
        self._tasks: list[asyncio.Task[None]] = []

    async def purge(self) -> dict[str, int]:
        result = await run_in_threadpool(purge_once, self.services.store, self.services.accounts)
        if any(result.values()):
            log.info("retention purge: %s", result)
        return result

    async def flush(self) -> int:
        return await run_in_threadpool(self.services.counter.flush, self.services.store)

    async def replay(self) -> int:
        return await self.services.recorder.replay()

    def start(self) -> None:
        s = self.services.settings
        self._tasks = [asyncio.create_task(_every(s.purge_interval_s, "purge", self.purge)),
                       asyncio.create_task(_every(s.stats_flush_s, "stats", self.flush)),
                       asyncio.create_task(_every(s.spool_replay_s, "spool", self.replay)),
                       asyncio.create_task(_every(0.5, "readiness", self.services.readiness.refresh))]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        try:
            await self.services.store_pool.run(self.services.counter.flush, self.services.store)
        except Exception:  # counts since the last flush are lost only when the database is down at shutdown
            log.exception("final flush of decision counts failed")
