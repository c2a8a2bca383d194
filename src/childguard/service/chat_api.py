"""The chat gateway's HTTP face (`POST /v1/chat/completions`); the turn itself is gateway.py's. The
gateway holds the upstream connection pool, so there is one per app, kept on the app's state."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from .gateway import Gateway
from .json_body import parse_object
from .upstream_share import client_key

router = APIRouter(tags=["gateway"])


async def get_gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


@router.post("/v1/chat/completions")
async def chat_completions(request: Request, gateway: Annotated[Gateway, Depends(get_gateway)]) -> Response:
    """OpenAI-compatible chat completions through the child protection mode. Extension:
    `"childguard": {"age": 10, "lang": "fr", "country": "FR"}` in the request body."""
    body = parse_object(await request.body())  # depth-bounded: 400, never a RecursionError 500
    return await gateway.handle(body, client_key(request, gateway.settings.api_keys))
