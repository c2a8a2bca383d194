"""Request size limits and per-key rate limits, as pure ASGI middleware so they act before a body is
read into memory or a route runs."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def _reject(send: Send, status: int, code: str, message: str, headers: list[tuple[bytes, bytes]] = []) -> None:  # noqa: B006
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": body})


class BodySizeLimit:
    """413 for bodies over `max_bytes`, whether announced by Content-Length or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _reject(send, 413, "request_too_large", f"request body over {self.max_bytes} bytes")
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _reject(send, 413, "request_too_large", f"request body over {self.max_bytes} bytes")


class _TooLarge(Exception):
    pass


def _digest(token: bytes) -> str:
    return hashlib.sha256(token).hexdigest()


class RateLimit:
    """Token bucket per verified API key (one of `keys`) or else per client address. A made-up or
    unknown Bearer token counts as its sender's address, so a new token per request buys nothing.
    In-process; several workers each enforce their own share."""

    def __init__(self, app: ASGIApp, per_minute: int, burst: int, exempt: tuple[str, ...] = (),
                 max_keys: int = 100_000, keys: list[str] | tuple[str, ...] = ()) -> None:
        self.app, self.rate, self.burst, self.exempt = app, per_minute / 60.0, float(burst), exempt
        self.max_keys = max_keys
        self._keys = frozenset(_digest(k.encode()) for k in keys if k)  # hashes: equal-time set lookups
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def _key(self, scope: Scope) -> str:
        auth: bytes = dict(scope.get("headers") or []).get(b"authorization", b"")
        if auth.lower().startswith(b"bearer "):
            digest = _digest(bytes(auth[7:]))
            if digest in self._keys:
                return "key:" + digest
        client = scope.get("client") or ("unknown", 0)
        return f"ip:{client[0]!s}"

    def _take(self, key: str) -> float:
        """Seconds to wait; 0 when a token was taken."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                wait = 0.0
            else:
                self._buckets[key] = (tokens, now)
                wait = (1 - tokens) / self.rate
            self._buckets.move_to_end(key)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        return wait

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "") in self.exempt:
            await self.app(scope, receive, send)
            return
        wait = self._take(self._key(scope))
        if wait:
            retry = str(max(1, int(wait + 0.999))).encode()
            await _reject(send, 429, "rate_limited", "too many requests for this key; retry later",
                          [(b"retry-after", retry)])
            return
        await self.app(scope, receive, send)
