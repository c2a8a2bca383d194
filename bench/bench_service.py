"""Moderation API under load (target: >= 500 requests/s with p99 <= 50 ms on this 2-core
machine). The service runs as `childguard serve` in its own process; the load comes from this
process with an async HTTP client at fixed concurrency for a fixed duration.

    python bench/bench_service.py --out build/bench_service.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]


def messages() -> list[str]:
    out: list[str] = []
    for path in sorted((ROOT / "training/seeds").glob("*.yaml")):
        for texts in yaml.safe_load(path.read_text(encoding="utf-8")).values():
            out.extend(str(t)[:280] for t in texts)
    return out


async def load(url: str, concurrency: int, seconds: float) -> tuple[list[float], int]:
    msgs = messages()
    latencies: list[float] = []
    errors = 0
    stop = time.monotonic() + seconds

    async def worker(i: int, client: httpx.AsyncClient) -> None:
        nonlocal errors
        n = i
        while time.monotonic() < stop:
            body = {"input": msgs[n % len(msgs)], "age": 11}
            n += concurrency
            t = time.perf_counter()
            r = await client.post(url, json=body)
            latencies.append(time.perf_counter() - t)
            errors += r.status_code != 200

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:
        await asyncio.gather(*(worker(i, client) for i in range(concurrency)))
    return latencies, errors


def wrk_load(url: str, concurrency: int, seconds: float) -> dict[str, float] | None:
    """Load with wrk (C, Debian package `wrk`) when installed: it costs the 2-core box far less than a
    Python client, so the figure is the service's. Returns None when wrk is absent."""
    import re
    import shutil
    import tempfile

    if not shutil.which("wrk"):
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                  'wrk.body = \'{"input": "hey can you help me with my maths homework?", "age": 11}\'\n')
    opts = ["-t1", f"-c{concurrency}", "-s", lua.name, url]
    subprocess.run(["wrk", "-d2s", *opts], capture_output=True, check=True)  # warm-up
    out = subprocess.run(["wrk", f"-d{int(seconds)}s", "--latency", *opts], capture_output=True, text=True,
                         check=True).stdout
    os.unlink(lua.name)

    def ms(label: str) -> float:
        m = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out)
        assert m, out
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {"requests_per_s": rps, "p50_ms": ms("50%"), "p99_ms": ms("99%"),
            "errors": int(non2xx.group(1)) if non2xx else 0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=ROOT / "build/bench_service.json")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "CHILDGUARD_RATE_LIMIT_PER_MINUTE": "100000000", "CHILDGUARD_RATE_LIMIT_BURST": "100000"}
    server = subprocess.Popen([sys.executable, "-m", "childguard", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        measured = wrk_load(f"{base}/v1/moderations", args.concurrency, args.seconds)
        client = "wrk"
        if measured is None:
            client = "httpx (wrk not installed; the Python client competes with the service for the 2 cores)"
            asyncio.run(load(f"{base}/v1/moderations", args.concurrency, 2.0))  # warm-up
            latencies, errors = asyncio.run(load(f"{base}/v1/moderations", args.concurrency, args.seconds))
            latencies.sort()
            n = len(latencies)
            measured = {"requests_per_s": round(n / args.seconds, 1), "p50_ms": round(1000 * latencies[n // 2], 2),
                        "p99_ms": round(1000 * latencies[int(n * 0.99)], 2), "errors": errors}
    finally:
        server.terminate()
        server.wait(timeout=10)
    result = {"client": client, "seconds": args.seconds, "concurrency": args.concurrency, **measured,
              "target": {"requests_per_s": 500, "p99_ms": 50}}
    result["met"] = result["requests_per_s"] >= 500 and result["p99_ms"] <= 50 and result["errors"] == 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{client}, {args.seconds:.0f} s at concurrency {args.concurrency}: {result['requests_per_s']} req/s, "
          f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, errors {result['errors']}; "
          f"target met: {result['met']}")


if __name__ == "__main__":
    main()
