"""The LLM-guard detector against a real HTTP server on loopback that answers like Llama Guard."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from childguard import Action, ConfigError, DetectorError, Guard, Settings
from childguard.detectors.llm_guard import parse_verdict


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        text = body["messages"][-1]["content"]
        self.server.seen.append(body)  # type: ignore[attr-defined]
        if "broken" in text:
            self.send_response(500)
            self.end_headers()
            return
        verdict = "unsafe\nS11" if "bridge" in text else "safe"
        payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": verdict}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def server() -> Iterator[ThreadingHTTPServer]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()


def _guard(srv: ThreadingHTTPServer) -> Guard:
    url = f"http://127.0.0.1:{srv.server_address[1]}/v1"
    return Guard(Settings(detectors=["classifier", "llm_guard"], llm_guard_url=url, llm_guard_api_key="k"))


def test_llm_guard_adds_findings(server: ThreadingHTTPServer) -> None:
    d = _guard(server).check("which bridge is the highest to jump from", age=14)
    assert d.action is Action.ESCALATE
    assert any(r.detector == "llm_guard" and r.label == "self_harm" for r in d.reasons)
    assert server.seen[0]["model"] == "llama-guard"  # type: ignore[attr-defined]


def test_llm_guard_failure_degrades_to_the_embedded_detectors(server: ThreadingHTTPServer) -> None:
    d = _guard(server).check("broken request about homework", age=10)
    assert d.action is Action.ALLOW
    assert any(r.label == "detector" and "llm_guard" in r.text for r in d.reasons)


def test_llm_guard_needs_a_url() -> None:
    with pytest.raises(ConfigError):
        Guard(Settings(detectors=["llm_guard"]))


def test_verdict_parsing() -> None:
    assert parse_verdict("safe") == []
    assert parse_verdict("unsafe\nS4, S10") == ["hate", "sexual_minors"]
    with pytest.raises(DetectorError):
        parse_verdict("maybe?")
