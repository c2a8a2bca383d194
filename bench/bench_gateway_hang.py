"""One hanging upstream must not starve every child (issue 18 item 4). The red team's case: 150 streams
from one client to a model that never answers, while another client chats as usual (before the fix:
56 s per chat, baseline 0.16 s). Upstream: a loopback chat server in this process that never answers a
message containing "hang" and answers the rest at once; gateway: `childguard serve` in its own process
with two API keys, one for the flood and one for the normal traffic.

    python bench/bench_gateway_hang.py [--hung 150] [--seconds 20] [--first-byte 15] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
STOP = threading.Event()


class Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if "hang" in json.dumps(body["messages"][-1]):
            STOP.wait(600)
            return
        payload = json.dumps({"id": "c", "object": "chat.completion", "choices": [{"index": 0, "finish_reason": "stop",
                              "message": {"role": "assistant", "content": "Plants make food from light."}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


def chat(text: str, stream: bool = False) -> dict[str, object]:
    return {"model": "m", "stream": stream, "childguard": {"age": 11}, "messages": [{"role": "user", "content": text}]}


async def run(base: str, hung: int, seconds: float) -> dict[str, object]:
    limits = httpx.Limits(max_connections=hung + 10)
    async with httpx.AsyncClient(timeout=120, limits=limits) as flood, httpx.AsyncClient(timeout=120) as normal:
        url = f"{base}/v1/chat/completions"
        a, b = {"Authorization": "Bearer flood-key"}, {"Authorization": "Bearer app-key"}
        for _ in range(5):  # warm-up
            await normal.post(url, json=chat("what is photosynthesis?"), headers=b)
        start = time.perf_counter()
        tasks = []
        for _ in range(hung):  # 100 a second: all at once, most would only meet the decision queue's 503
            tasks.append(asyncio.create_task(flood.post(url, json=chat("please hang", stream=True), headers=a)))
            await asyncio.sleep(0.01)
        await asyncio.sleep(1.0)
        latencies, errors = [], 0
        while time.perf_counter() - start < seconds:
            t = time.perf_counter()
            r = await normal.post(url, json=chat("what is photosynthesis?"), headers=b)
            latencies.append(time.perf_counter() - t)
            errors += r.status_code != 200
            await asyncio.sleep(0.05)
        flood_results = await asyncio.gather(*tasks, return_exceptions=True)
    latencies.sort()
    outcomes: dict[str, int] = {}
    for res in flood_results:
        key = "client error" if isinstance(res, BaseException) else \
            ("upstream_busy" if "upstream_busy" in res.text else "upstream_timeout" if "upstream_timeout" in res.text
             else f"http {res.status_code}")
        outcomes[key] = outcomes.get(key, 0) + 1
    return {"hung_streams": hung, "normal_requests": len(latencies), "normal_errors": errors,
            "normal_p50_ms": round(1000 * latencies[len(latencies) // 2], 1),
            "normal_p99_ms": round(1000 * latencies[int(len(latencies) * 0.99)], 1),
            "normal_max_ms": round(1000 * latencies[-1], 1), "flood_outcomes": outcomes}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--hung", type=int, default=150)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--first-byte", type=float, default=15)
    ap.add_argument("--out", type=Path, default=ROOT / "build/bench_gateway_hang.json")
    args = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = Path(os.environ.get("TMPDIR", "/tmp")) / f"cg-bench-hang-{port}"
    env = {**os.environ, "CHILDGUARD_UPSTREAM_URL": f"http://127.0.0.1:{srv.server_address[1]}/v1",
           "CHILDGUARD_API_KEYS": '["flood-key", "app-key"]', "CHILDGUARD_RATE_LIMIT_PER_MINUTE": "100000000",
           "CHILDGUARD_RATE_LIMIT_BURST": "100000", "CHILDGUARD_UPSTREAM_FIRST_BYTE_TIMEOUT_S": str(args.first_byte),
           "CHILDGUARD_DATABASE_URL": f"sqlite:///{data}/cg.db", "CHILDGUARD_KEY_FILE": str(data / "key"),
           "CHILDGUARD_SPOOL_FILE": str(data / "spool.log")}
    gateway = subprocess.Popen([sys.executable, "-m", "childguard", "serve", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        result = asyncio.run(run(base, args.hung, args.seconds))
    finally:
        gateway.terminate()
        STOP.set()
        srv.shutdown()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
