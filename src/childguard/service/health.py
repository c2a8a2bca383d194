"""Readiness of what the service depends on, answered within a second even when a dependency hangs:
each probe runs in its own small pool with a short timeout, apart from the request traffic, so a
saturated store pool does not read as a database outage and a hung database does not hang /readyz."""

from __future__ import annotations

import asyncio
from typing import Any

from ..errors import StoreUnavailableError
from ..settings import Settings
from ..store import Store
from .offload import StorePool

PROBE_TIMEOUT_S = 0.8


class Health:
    def __init__(self, settings: Settings, store: Store) -> None:
        self.store = store
        self._pool = StorePool(threads=4, timeout_s=PROBE_TIMEOUT_S)
        self._redis: Any = None
        if settings.conversation_store == "redis":
            import redis

            self._redis = redis.Redis.from_url(settings.redis_url, socket_timeout=PROBE_TIMEOUT_S,
                                               socket_connect_timeout=PROBE_TIMEOUT_S)

    async def _probe(self, name: str) -> tuple[str, str]:
        try:
            if name == "database":
                await self._pool.run(self.store.ping)
            else:
                await self._pool.run(self._redis.ping)
        except StoreUnavailableError:
            return name, "down"
        except Exception as exc:  # a probe reports; it never raises (redis errors, refused connections)
            return name, f"down ({type(exc).__name__})"
        return name, "up"

    async def stores(self) -> dict[str, str]:
        """{"database": "up"|"down ...", "redis": ...} (redis only when conversations live there)."""
        names = ["database"] + (["redis"] if self._redis is not None else [])
        return dict(await asyncio.gather(*(self._probe(n) for n in names)))

    def shutdown(self) -> None:
        self._pool.shutdown()
