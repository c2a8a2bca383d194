"""One slow client must not hold the service (issue 18, items 3 and 13): header and body deadlines, a
connection cap below the file limit, throttled accept-error logging, and no trusted proxy by default
(a random X-Forwarded-For from loopback used to defeat per-address limits)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from childguard.service import create_app
from childguard.service.serving import AcceptErrorThrottle, GuardedH11Protocol, server_options
from childguard.settings import Settings


def _start(**extra: object) -> Iterator[str]:
    data = Path(tempfile.mkdtemp())
    cfg = Settings(database_url=f"sqlite:///{data}/cg.db", key_file=data / "key", header_timeout_s=1.0,
                   body_timeout_s=1.0, **extra)  # type: ignore[arg-type]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(cfg), host="127.0.0.1", port=port, log_level="warning",
                                           **server_options(cfg)))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    yield from _start(rate_limit_per_minute=10**6, rate_limit_burst=10**6)


@pytest.fixture(scope="module")
def limited() -> Iterator[str]:
    yield from _start(rate_limit_per_minute=1, rate_limit_burst=5)


def _closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(1024) == b""
    except (ConnectionResetError, TimeoutError):
        return False


def test_slow_headers_and_slow_bodies_are_cut_off(served: str) -> None:
    port = int(served.rsplit(":", 1)[1])
    before = GuardedH11Protocol.closed_slow
    slow = []
    for i in range(40):
        s = socket.create_connection(("127.0.0.1", port))
        s.settimeout(4)
        if i % 2:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # headers never finished
        else:
            s.sendall(b"POST /v1/moderations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 1000\r\n\r\n{\"input\": \"")  # a body that never arrives
        slow.append(s)
    t0 = time.perf_counter()
    for _ in range(5):  # a byte now and then does not extend the deadline
        time.sleep(0.3)
        for s in slow[1::2]:
            with contextlib.suppress(OSError):
                s.sendall(b"X")
    health = httpx.get(f"{served}/healthz", timeout=5)
    assert health.status_code == 200 and health.elapsed.total_seconds() < 0.5
    open_ones = [i for i, s in enumerate(slow) if not _closed_by_server(s)]
    assert not open_ones, open_ones
    assert time.perf_counter() - t0 < 4
    assert GuardedH11Protocol.closed_slow - before >= 40
    for s in slow:
        s.close()


def test_a_forwarded_header_from_loopback_does_not_change_the_client(limited: str) -> None:
    codes = [httpx.post(f"{limited}/v1/moderations", json={"input": "hello"},
                        headers={"X-Forwarded-For": f"10.{i}.{uuid.uuid4().int % 250}.1"}).status_code
             for i in range(8)]
    assert 429 in codes  # one address, whatever it claims to forward for


def test_options_cap_connections_below_the_file_limit_and_trust_no_proxy() -> None:
    import resource

    opts = server_options(Settings())
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert opts["limit_concurrency"] < soft and opts["proxy_headers"] is False and opts["forwarded_allow_ips"] == ""
    assert server_options(Settings(max_connections=50))["limit_concurrency"] == 50
    proxied = server_options(Settings(forwarded_allow_ips="10.0.0.5"))
    assert proxied["proxy_headers"] is True and proxied["forwarded_allow_ips"] == "10.0.0.5"


def test_accept_errors_are_logged_once_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    throttle = AcceptErrorThrottle(every_s=60)
    loop = asyncio.new_event_loop()
    try:
        with caplog.at_level(logging.ERROR, logger="childguard.serving"):
            for _ in range(5000):
                throttle(loop, {"message": "socket.accept() out of system resource",
                                "exception": OSError(24, "Too many open files")})
    finally:
        loop.close()
    assert len([r for r in caplog.records if r.name == "childguard.serving"]) == 1
