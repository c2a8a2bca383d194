"""The routers are module-level objects shared by every app in the process; what they work on comes
from the app that received the request (app.state), so two apps never see each other's settings."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from fastapi import FastAPI

from childguard import Settings
from childguard.service import create_app
from childguard.store import Store


def _app(tmp: Path, max_inputs: int) -> FastAPI:
    tmp.mkdir()
    cfg = Settings(key_file=tmp / "key", spool_file=tmp / "spool.log", database_url=f"sqlite:///{tmp}/cg.db",
                   max_inputs=max_inputs)
    return create_app(cfg, store=Store(cfg))


def test_each_app_answers_with_its_own_services(tmp_path: Path) -> None:
    strict, lenient = _app(tmp_path / "one", max_inputs=1), _app(tmp_path / "two", max_inputs=5)
    body = {"input": ["hello", "what is a volcano"], "age": 10}

    async def post(app: FastAPI) -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cg") as client:
            return await client.post("/v1/moderations", json=body)

    try:
        refused, answered = asyncio.run(post(strict)), asyncio.run(post(lenient))
    finally:
        strict.state.services.shutdown()
        lenient.state.services.shutdown()
    assert refused.status_code == 422 and "at most 1 per request" in refused.json()["error"]["message"]
    assert answered.status_code == 200 and len(answered.json()["results"]) == 2
