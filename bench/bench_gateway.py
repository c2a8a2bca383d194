"""Gateway overhead (target: <= 10 ms p50 over calling the upstream directly, streaming
time-to-first-token included). Upstream: the zero-latency loopback chat server in its own process;
gateway: `childguard serve` in its own process pointing at it. Sequential requests, benign messages
(harmful ones never reach the upstream), so the difference is the gateway's own cost.

    python bench/bench_gateway.py --out build/bench_gateway.json
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ["what is photosynthesis?", "how do volcanoes erupt?", "can you help me with fractions?",
             "why is the sky blue?", "tell me a fun fact about space"]


def timed(client: httpx.Client, url: str, n: int, stream: bool) -> list[float]:
    out = []
    for i in range(n):
        body = {"model": "m", "stream": stream, "messages": [{"role": "user", "content": QUESTIONS[i % 5]}],
                "childguard": {"age": 11}}
        t = time.perf_counter()
        if stream:
            with client.stream("POST", url, json=body) as r:
                first = None
                for line in r.iter_lines():  # read to the end so the connection can be reused
                    if first is None and line.startswith("data: {"):
                        first = time.perf_counter() - t  # time to first token
                out.append(first if first is not None else time.perf_counter() - t)
        else:
            client.post(url, json=body).raise_for_status()
            out.append(time.perf_counter() - t)
    return sorted(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=ROOT / "build/bench_gateway.json")
    ap.add_argument("-n", type=int, default=300)
    args = ap.parse_args()
    upstream = subprocess.Popen([sys.executable, "-m", "childguard.testing.chat_servers", "unsafe"],
                                stdout=subprocess.PIPE,
                                text=True)
    up_url = upstream.stdout.readline().strip() if upstream.stdout else ""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "CHILDGUARD_UPSTREAM_URL": up_url, "CHILDGUARD_RATE_LIMIT_PER_MINUTE": "100000000"}
    gateway = subprocess.Popen([sys.executable, "-m", "childguard", "serve", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL)
    gw_url = f"http://127.0.0.1:{port}/v1"
    try:
        with httpx.Client(timeout=30) as client:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if client.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            result: dict[str, object] = {"requests_each": args.n}
            for stream in (False, True):
                timed(client, f"{gw_url}/chat/completions", 20, stream)  # warm-up
                direct = timed(client, f"{up_url}/chat/completions", args.n, stream)
                via = timed(client, f"{gw_url}/chat/completions", args.n, stream)
                p50d, p50g = 1000 * direct[len(direct) // 2], 1000 * via[len(via) // 2]
                result["stream_ttft" if stream else "non_stream"] = {
                    "direct_p50_ms": round(p50d, 2), "gateway_p50_ms": round(p50g, 2),
                    "overhead_p50_ms": round(p50g - p50d, 2),
                    "gateway_p99_ms": round(1000 * via[int(len(via) * 0.99)], 2)}
    finally:
        gateway.terminate()
        upstream.terminate()
    result["target_overhead_p50_ms"] = 10
    result["met"] = all(v["overhead_p50_ms"] <= 10 for k, v in result.items() if isinstance(v, dict))  # type: ignore[union-attr]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    for key in ("non_stream", "stream_ttft"):
        v = result[key]
        print(f"{key}: direct p50 {v['direct_p50_ms']} ms, via gateway p50 {v['gateway_p50_ms']} ms, "  # type: ignore[index]
              f"overhead {v['overhead_p50_ms']} ms")  # type: ignore[index]
    print(f"target overhead p50 <= 10 ms met: {result['met']}; wrote {args.out}")


if __name__ == "__main__":
    main()
