"""One loopback HTTP server for the test doubles: a handler class in, its base URL out, shut down on exit."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler], path: str = "/v1",
            on_stop: Callable[[], None] | None = None) -> Iterator[str]:
    """`on_stop` runs before the shutdown, so handlers that wait (a hanging upstream) are released first."""
    srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}{path}"
    finally:
        if on_stop is not None:
            on_stop()
        srv.shutdown()
        srv.server_close()
