"""A scriptable OpenAI-compatible upstream on loopback for the gateway tests: each request's answer is
chosen by a function of its body (echo, hang, a very long stream), so one server can hang for one
client while answering another."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from childguard.testing.loopback import serving


@dataclass
class Reply:
    text: str = ""
    hang_s: float = 0.0  # wait this long before answering at all
    chunk_chars: int = 0  # stream in pieces of this size (0: one word per chunk)
    pause_s: float = 0.0  # between streamed pieces (a model that trickles)
    tool_calls: list[dict[str, Any]] | None = None  # streamed as fragments: id and name, then 5 characters a time


def last_user_text(body: dict[str, Any]) -> str:
    users = [m for m in body["messages"] if m.get("role") == "user"]
    content = users[-1]["content"] if users else ""
    if isinstance(content, list):
        return "\n".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content)


@contextmanager
def upstream(answer: Callable[[dict[str, Any]], Reply], record: list[dict[str, Any]] | None = None) -> Iterator[str]:
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if record is not None:
                record.append(body)
            reply = answer(body)
            if reply.hang_s:
                stop.wait(reply.hang_s)
            try:
                if body.get("stream"):
                    self._stream(reply)
                else:
                    self._complete(reply, body)
            except OSError:  # the gateway gave up and closed the connection
                pass

        def _complete(self, reply: Reply, body: dict[str, Any]) -> None:
            payload = json.dumps({"id": "c1", "object": "chat.completion", "model": body.get("model"),
                                  "choices": [{"index": 0, "finish_reason": "stop",
                                               "message": {"role": "assistant", "content": reply.text,
                                                           "tool_calls": reply.tool_calls}}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _stream(self, reply: Reply) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            text = reply.text
            if reply.chunk_chars:
                pieces = [text[i:i + reply.chunk_chars] for i in range(0, len(text), reply.chunk_chars)]
            else:
                pieces = [w + " " for w in text.split(" ")]
            out = []
            for piece in pieces:
                chunk = {"id": "c1", "object": "chat.completion.chunk",
                         "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                out.append(f"data: {json.dumps(chunk)}\n\n")
                if reply.pause_s:
                    self.wfile.write(out.pop().encode())
                    self.wfile.flush()
                    if stop.wait(reply.pause_s):
                        return
            for i, call in enumerate(reply.tool_calls or []):
                args = call["function"]["arguments"]
                fragments = [{"index": i, "id": call["id"], "type": "function",
                              "function": {"name": call["function"]["name"], "arguments": ""}}]
                fragments += [{"index": i, "function": {"arguments": args[j:j + 5]}} for j in range(0, len(args), 5)]
                for f in fragments:
                    chunk = {"id": "c1", "object": "chat.completion.chunk",
                             "choices": [{"index": 0, "delta": {"tool_calls": [f]}, "finish_reason": None}]}
                    out.append(f"data: {json.dumps(chunk)}\n\n")
            out.append("data: [DONE]\n\n")
            self.wfile.write("".join(out).encode())
            self.wfile.flush()
            self.close_connection = True

        def log_message(self, *args: object) -> None:
            pass

    with serving(Handler, on_stop=stop.set) as url:
        yield url
