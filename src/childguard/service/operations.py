"""What operators and orchestrators ask of the service: what it offers, whether it is alive, and
whether it is ready for traffic."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from .. import __version__
from .context import ServicesDep
from .responses import error_response

router = APIRouter(tags=["operations"])


@router.get("/")
async def index() -> dict[str, Any]:
    return {"service": "childguard", "version": __version__,
            "pages": {"report": "/report", "contest": "/contest", "transparency": "/transparency",
                      "console": "/console", "api_docs": "/docs"},
            "apis": ["/v1/moderations", "/v1/chat/completions", "/v1/conversations/messages",
                     "/v1/conversations/check", "/v1/reports", "/v1/contests", "/v1/consents", "/v1/transparency",
                     "/metrics"]}


@router.get("/healthz")
async def healthz(services: ServicesDep) -> dict[str, Any]:
    """Liveness: on the event loop, touching nothing that can block, so it answers while the decision
    workers are saturated or the database hangs."""
    return {"status": "ok", "version": __version__, "uptime_s": round(time.time() - services.started, 1),
            "decisions_in_flight": services.decisions.in_flight}


@router.get("/readyz")
async def readyz(request: Request, services: ServicesDep) -> JSONResponse:
    """Ready when the decision pipeline answers and every store is up; says which one is down within
    a second. Escalations are still accepted (spooled) while the database is down. Served from a status
    at most a second old (readiness.py), so pollers cost the service nothing; the upstream's last state
    is reported beside it, never as "not ready" (the gateway is optional)."""
    status = await services.readiness.status()
    upstream = request.app.state.gateway.upstream_status()
    if not status.ready:
        extra = {k: v for k, v in status.body.items() if k != "message"}
        return error_response(503, "not_ready", status.body["message"], upstream=upstream, **extra)
    return JSONResponse(status.body | {"upstream": upstream})
