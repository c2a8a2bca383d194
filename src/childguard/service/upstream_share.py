"""A fair share of the upstream connections per client (issue 18 item 4).

The gateway's connections to the chat model are one pool: 150 streams from one client to a model
that never answers held all 64 of them, and every other child's chat waited 56 s. Each client (a
verified API key, else the client address, as the rate limit counts them) may hold at most its share
of the pool at once; a chat over the share is answered at once ("busy, try again") instead of queueing
behind the hung ones. The count is per process and on the event loop, so it needs no lock."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from starlette.requests import Request

from ..errors import UpstreamBusyError


def client_key(request: Request, api_keys: list[str]) -> str:
    """The same identity the rate limit uses: a configured API key counts as itself, anything else as
    its sender's address (a made-up token per request buys no second share)."""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer ") and api_keys:
        token = auth[7:].encode("utf-8", "surrogateescape")
        digest = hashlib.sha256(token).hexdigest()
        if any(hashlib.sha256(k.encode()).hexdigest() == digest for k in api_keys if k):
            return "key:" + digest
    return "ip:" + (request.client.host if request.client else "unknown")


class UpstreamShare:
    def __init__(self, connections: int, share: float) -> None:
        self.per_client = max(1, int(connections * share))
        self._held: dict[str, int] = {}

    @contextmanager
    def slot(self, client: str) -> Iterator[None]:
        held = self._held.get(client, 0)
        if held >= self.per_client:
            raise UpstreamBusyError(f"this client already has {held} chats waiting for the model (its share of "
                                    "the upstream connections); retry when one has finished")
        self._held[client] = held + 1
        try:
            yield
        finally:
            left = self._held[client] - 1
            if left:
                self._held[client] = left
            else:
                del self._held[client]

    def held(self, client: str) -> int:
        return self._held.get(client, 0)
