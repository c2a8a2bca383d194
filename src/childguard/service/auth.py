"""API keys for the machine APIs. Off by default (a local `make run` needs none); with
CHILDGUARD_API_KEYS set, every /v1/ route needs `Authorization: Bearer <key>`, except the children's
report and contest APIs, which must work without an account (3d, 3i)."""

from __future__ import annotations

import secrets

from .limits import ASGIApp, Receive, Scope, Send, _reject

OPEN_PREFIXES = ("/v1/reports", "/v1/contests")  # children use these without an account


class ApiKeyAuth:
    def __init__(self, app: ASGIApp, keys: list[str]) -> None:
        self.app, self.keys = app, [k.encode() for k in keys if k]

    def _allowed(self, scope: Scope) -> bool:
        auth: bytes = dict(scope.get("headers") or []).get(b"authorization", b"")
        token = bytes(auth[7:]) if auth.lower().startswith(b"bearer ") else b""
        # compare against every key, so timing does not tell how many or which keys exist
        return any([secrets.compare_digest(token, k) for k in self.keys]) if token else False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (scope["type"] != "http" or not self.keys or not path.startswith("/v1/")
                or path.startswith(OPEN_PREFIXES)):
            await self.app(scope, receive, send)
            return
        if not self._allowed(scope):
            await _reject(send, 401, "unauthorized", "this service needs an API key: send 'Authorization: Bearer "
                          "<key>' with one of the keys in CHILDGUARD_API_KEYS", [(b"www-authenticate", b"Bearer")])
            return
        await self.app(scope, receive, send)
