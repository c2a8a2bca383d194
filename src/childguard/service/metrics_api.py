"""`GET /metrics` for Prometheus. Outside /v1/ like /healthz (no API key: it holds counts, never text or
ids) and exempt from the rate limit, so scrapes neither need a key nor eat a client's budget. The
store probes and the spool are read at scrape time, in the answering worker."""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter, Response

from .context import ServicesDep
from .metrics import REPLAY_LAG, SPOOL_BYTES, SPOOL_CASES, STORE_UP, render

router = APIRouter(tags=["operations"])


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
async def metrics(services: ServicesDep) -> Response:
    for name, state in (await services.health.stores()).items():
        STORE_UP.labels(name).set(1 if state == "up" else 0)
    spool = await asyncio.to_thread(services.recorder.spool.stats)
    SPOOL_CASES.set(spool.cases)
    SPOOL_BYTES.set(spool.bytes)
    REPLAY_LAG.set(max(0.0, time.time() - spool.oldest_at) if spool.oldest_at is not None else 0.0)
    body, content_type = render()
    return Response(body, media_type=content_type)
