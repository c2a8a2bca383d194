"""How the service meets the network (uvicorn): what a slow or hostile client may hold. uvicorn has no
header-read timeout, so 3,000 connections that send a header byte now and then were all held over 60 s,
and at a 1,024-file limit they starved every other request while asyncio logged 590 MB of accept errors
in 15 s. Here: a deadline for the request headers and one for the body, a cap on connections below the
file limit (more get 503 at once), forwarded headers trusted from no proxy unless configured, and accept
errors logged at most once per interval. In production put a reverse proxy in front as well (README)."""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from ..settings import Settings, get_settings

log = logging.getLogger("childguard.serving")


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with two deadlines per request: the headers must be complete within
    `header_timeout_s` of the connection (or of the first byte after a keep-alive pause), the body within
    `body_timeout_s` of the headers. Absolute, not reset per byte: a byte every few seconds buys nothing."""

    header_timeout_s = 10.0
    body_timeout_s = 30.0
    configured = False  # set by `protocol_for`; a spawned worker process reads the settings itself
    closed_slow = 0  # connections closed for a missed deadline, all instances (tests, diagnostics)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not GuardedH11Protocol.configured:
            protocol_for(get_settings())
        self._deadline: asyncio.TimerHandle | None = None
        self._phase: object = None

    def _arm(self, phase: object, seconds: float) -> None:
        if self._phase is phase:
            return
        self._disarm()
        self._phase = phase
        self._deadline = self.loop.call_later(seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline, self._phase = None, None

    def _too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            GuardedH11Protocol.closed_slow += 1
            self.transport.close()

    def _watch(self) -> None:
        state = self.conn.their_state
        if state is h11.IDLE:
            self._arm(h11.IDLE, self.header_timeout_s)
        elif state is h11.SEND_BODY:
            self._arm(h11.SEND_BODY, self.body_timeout_s)
        else:  # the request is in: the route's own time is the route's business
            self._disarm()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(h11.IDLE, self.header_timeout_s)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if not self.transport.is_closing():
            self._watch()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._disarm()  # idle keep-alive is uvicorn's timer; the next request's first byte arms ours

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def protocol_for(settings: Settings) -> type[GuardedH11Protocol]:
    """The protocol class with the settings' deadlines (one per process: uvicorn pickles the class by
    name into `--workers` processes, so it must be this module-level one)."""
    GuardedH11Protocol.header_timeout_s = settings.header_timeout_s
    GuardedH11Protocol.body_timeout_s = settings.body_timeout_s
    GuardedH11Protocol.configured = True
    return GuardedH11Protocol


def connection_cap(settings: Settings) -> int:
    """`max_connections`, or by default what the open-file limit leaves after files, the database and
    Redis pools (100 spare), so a flood of connections meets 503 rather than "too many open files"."""
    if settings.max_connections:
        return settings.max_connections
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(16, min(4096, (soft if soft > 0 else 1024) - 100))


def server_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for uvicorn.run / uvicorn.Config."""
    trusted = settings.forwarded_allow_ips
    return {"http": protocol_for(settings), "limit_concurrency": connection_cap(settings), "timeout_keep_alive": 5,
            "h11_max_incomplete_event_size": 16 * 1024, "proxy_headers": bool(trusted),
            "forwarded_allow_ips": trusted or "", "server_header": False}


class AcceptErrorThrottle:
    """A loop exception handler that logs each kind of accept error once per `every_s`, with how many
    were swallowed; everything else goes to the default handler."""

    def __init__(self, every_s: float = 10.0) -> None:
        self.every_s = every_s
        self._last: dict[str, float] = {}
        self._swallowed: dict[str, int] = {}

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        message = str(context.get("message", ""))
        if "accept" not in message and not isinstance(context.get("exception"), OSError):
            loop.default_exception_handler(context)
            return
        now = time.monotonic()
        if now - self._last.get(message, -1e9) < self.every_s:
            self._swallowed[message] = self._swallowed.get(message, 0) + 1
            return
        log.error("%s: %s (%d more in the last %.0f s)", message, context.get("exception"),
                  self._swallowed.pop(message, 0), self.every_s)
        self._last[message] = now


def install_accept_error_throttle(every_s: float = 10.0) -> None:
    asyncio.get_running_loop().set_exception_handler(AcceptErrorThrottle(every_s))
