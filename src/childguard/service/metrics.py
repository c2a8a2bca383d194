"""Prometheus metrics (`GET /metrics`, text format): traffic and latency per route, decisions per action,
category and language, the decision queue and its 503s, store and Redis health, the spool and how long
its oldest case has waited, upstream errors.

Labels are closed sets only: route templates (never a raw path, which may hold a conversation id),
taxonomy categories, actions, the languages the package speaks ("other" for the rest). No message text,
profile id or conversation id ever becomes a label (5b), and the closed sets keep the series bounded
whatever clients send.

Several workers (`childguard serve --workers N`) write their samples to files in
`PROMETHEUS_MULTIPROC_DIR` (prometheus-client's multiprocess mode, set by `serve` from
`CHILDGUARD_METRICS_DIR`); a scrape answered by any worker then reports the sum over all of them."""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import date
from functools import cache
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess as prom_multiprocess
from starlette.routing import Match

from ..decision import Decision
from ..store.stats import DecisionCounter

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter("childguard_http_requests", "HTTP requests answered, per route template, method and status",
                   ["route", "method", "status"])
LATENCY = Histogram("childguard_http_request_duration_seconds", "time to the end of the response, per route",
                    ["route", "method"],
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
DECISIONS = Counter("childguard_decisions", "decisions made, per surface, action, primary category and language",
                    ["source", "action", "category", "lang"])
QUEUE_DEPTH = Gauge("childguard_decision_queue_depth", "requests holding or waiting for a decision worker",
                    multiprocess_mode="livesum")
QUEUE_CAPACITY = Gauge("childguard_decision_queue_capacity", "decision workers plus queue places, beyond which "
                       "requests get 503", multiprocess_mode="livesum")
OVERLOADED = Counter("childguard_overloaded", "requests refused with 503 because every decision worker and queue "
                     "place was taken")
UPSTREAM_ERRORS = Counter("childguard_upstream_errors", "failures of the model behind the gateway, per route and "
                          "whether they ended the request (502/504) or cut a streamed answer",
                          ["route", "during"])
STORE_UP = Gauge("childguard_store_up", "1 when the store answered its probe at the last scrape (database, redis)",
                 ["store"], multiprocess_mode="mostrecent")
SPOOL_CASES = Gauge("childguard_spool_cases", "escalations and reports waiting in the local spool for the database",
                    multiprocess_mode="mostrecent")
SPOOL_BYTES = Gauge("childguard_spool_bytes", "size of the spool files", multiprocess_mode="mostrecent")
REPLAY_LAG = Gauge("childguard_spool_replay_lag_seconds", "how long the oldest spooled case has waited to be "
                   "written to the database (0 when the spool is empty)", multiprocess_mode="mostrecent")
WORKERS = Gauge("childguard_worker", "1 per live service process (a pid label in multiprocess mode)",
                multiprocess_mode="liveall")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]


@cache
def _languages() -> frozenset[str]:
    from ..messages import message_languages

    return frozenset(message_languages())


def lang_label(lang: str) -> str:
    return lang if lang in _languages() or lang == "und" else "other"


def count_decision(decision: Decision, source: str) -> None:
    category = decision.flagged[0] if decision.flagged else "none"  # as the transparency counts do
    DECISIONS.labels(source, decision.action.value, category, lang_label(decision.lang)).inc()


def count_upstream_error(route: str, during: str) -> None:
    UPSTREAM_ERRORS.labels(route, during).inc()


class MeteredCounter(DecisionCounter):
    """The transparency counter, also counting each decision for Prometheus: every surface already
    counts its decisions here, so no surface needs a second call."""

    def count(self, decision: Decision, source: str, today: date | None = None) -> None:
        super().count(decision, source, today)
        count_decision(decision, source)


METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def method_of(scope: Scope) -> str:
    """Clients may send any token as a method; only the standard ones become label values."""
    method = str(scope.get("method", ""))
    return method if method in METHODS else "other"


def route_of(scope: Scope, routes: list[Any]) -> str:
    """The template of the route that served (or would serve) the request: `/v1/conversations/{conversation}`,
    never the path itself. Requests refused before routing (401, 413, 429) are matched here."""
    route = scope.get("route")
    if route is None:
        for candidate in routes:
            match, _ = candidate.matches(scope)
            if match is Match.FULL:
                route = candidate
                break
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else "unmatched"


class HttpMetrics:
    """Outermost middleware: every answer is counted, those of the limits and auth in front included."""

    def __init__(self, app: ASGIApp, routes: list[Any]) -> None:
        self.app, self.routes = app, routes

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Message]],
                       send: Callable[[Message], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, status = time.perf_counter(), 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route, method = route_of(scope, self.routes), method_of(scope)
            REQUESTS.labels(route, method, str(status)).inc()
            LATENCY.labels(route, method).observe(time.perf_counter() - start)
            if status in (502, 504):
                count_upstream_error(route, "request")


# read once, as prometheus-client reads it when imported: its samples go to files only if the variable was
# set then, so a variable set later (by `serve` in the parent process) must not switch how this one renders
_MULTIPROC_DIR = os.environ.get(MULTIPROC_ENV) or None


def multiprocess_dir() -> str | None:
    return _MULTIPROC_DIR


def prepare_multiprocess(directory: os.PathLike[str] | str) -> None:
    """For `serve --workers N`, before the workers start: an empty directory (samples of an earlier run
    would be added to this one's) named in the environment the workers inherit."""
    path = os.fspath(directory)
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.unlink(os.path.join(path, name))
    os.environ[MULTIPROC_ENV] = path


def worker_started() -> None:
    WORKERS.set(1)


def worker_stopped() -> None:
    """Drop this process's live gauges (queue depth, worker) from the multiprocess files."""
    if multiprocess_dir() is not None:
        prom_multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def render() -> tuple[bytes, str]:
    directory = multiprocess_dir()
    if directory is None:
        from prometheus_client import REGISTRY

        return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    registry = CollectorRegistry()
    prom_multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return generate_latest(registry), CONTENT_TYPE_LATEST
