"""/readyz is served from a cached status (issue 18, item 6): 64 parallel pollers used to run 64
decisions and 64 database round trips at once and raised the moderation p99 from 26 to 182 ms."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from childguard.service import create_app
from childguard.settings import Settings


@pytest.fixture()
def app_and_probes(tmp_path: Path) -> Iterator[tuple[object, list[int]]]:
    cfg = Settings(database_url=f"sqlite:///{tmp_path}/cg.db", key_file=tmp_path / "key",
                   rate_limit_per_minute=10**6, rate_limit_burst=10**6)
    app = create_app(cfg)
    services = app.state.services
    probes = [0]
    real = services.health.stores

    async def counted() -> dict[str, str]:
        probes[0] += 1
        return await real()

    services.health.stores = counted
    yield app, probes


def test_parallel_pollers_share_one_check(app_and_probes: tuple[object, list[int]]) -> None:
    app, probes = app_and_probes

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return list(await asyncio.gather(*(client.get("/readyz") for _ in range(64))))

    responses = asyncio.run(run())
    assert all(r.status_code == 200 and r.json()["status"] == "ready" for r in responses)
    assert probes[0] == 1  # main: 64


def test_a_store_that_goes_down_shows_within_the_cache_age(app_and_probes: tuple[object, list[int]]) -> None:
    app, _ = app_and_probes
    services = app.state.services  # type: ignore[attr-defined]

    async def run() -> tuple[int, int]:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            first = (await client.get("/readyz")).status_code

            async def down() -> dict[str, str]:
                return {"database": "down"}

            services.health.stores = down
            await asyncio.sleep(services.readiness.max_age_s + 0.1)
            return first, (await client.get("/readyz")).status_code

    assert asyncio.run(run()) == (200, 503)
