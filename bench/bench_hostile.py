"""The service under a hostile mix beside normal traffic (issue 18's proof): long-word messages
(40 kB words on /v1/moderations, 4,000-letter words on /v1/reports without a key), slow clients
trickling header bytes, chat requests to an upstream that accepts and never answers, and a flood of
identical anonymous reports. Normal traffic: benign moderation requests at a steady open-loop rate
and /healthz polls. Targets: normal p99 <= 100 ms with 0 errors, /healthz under 0.5 s.

`childguard serve` runs in its own process on SQLite (fresh directory), loopback only, bounded in time.

    python bench/bench_hostile.py --seconds 40 --rate 40 --out build/bench_hostile.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

BENIGN = ["can you help me with my maths homework?", "what is the biggest planet?", "i like drawing cats",
          "how do volcanoes work?", "my friend and i are building a treehouse", "what should i read next?"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _hanging_upstream(port: int) -> asyncio.Server:
    """Accepts, reads, never answers."""
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await reader.read(65536):
                pass
        except ConnectionError:
            pass

    return await asyncio.start_server(handle, "127.0.0.1", port)


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)


async def _open_loop(rate: float, seconds: float, fire: Any) -> None:
    start = time.perf_counter()
    tasks = []
    i = 0
    while (due := i / rate) < seconds:
        await asyncio.sleep(max(0.0, start + due - time.perf_counter()))
        tasks.append(asyncio.create_task(fire(start + due)))
        i += 1
    await asyncio.gather(*tasks, return_exceptions=True)


async def _slow_clients(port: int, n: int, seconds: float, stats: dict[str, int]) -> None:
    """n connections that send a header byte every 2 s; reconnect when the server closes them."""
    async def one() -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-a: ")
                await writer.drain()
                cut = False
                while time.perf_counter() < end:
                    try:
                        await asyncio.wait_for(reader.read(1024), timeout=2)  # b"" when the server closes
                        cut = True
                        break
                    except TimeoutError:
                        writer.write(b"a")
                        await writer.drain()
                stats["cut_off" if cut else "held_to_the_end"] += 1
                writer.close()
            except (ConnectionError, OSError):
                stats["refused"] += 1
                await asyncio.sleep(0.5)

    await asyncio.gather(*(one() for _ in range(n)))


async def run(base: str, port: int, seconds: float, rate: float, slow: int) -> dict[str, Any]:
    normal: list[float] = []
    normal_errors: dict[str, int] = {}
    health: list[float] = []
    hostile: dict[str, dict[str, int]] = {k: {} for k in ("long_word", "report_long_word", "report_flood", "chat")}
    slow_stats = {"cut_off": 0, "held_to_the_end": 0, "refused": 0}
    limits = httpx.Limits(max_connections=400, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=base, timeout=10, limits=limits) as client:
        async def count(kind: str, status: int | str) -> None:
            hostile[kind][str(status)] = hostile[kind].get(str(status), 0) + 1

        async def fire_normal(due: float) -> None:
            try:
                r = await client.post("/v1/moderations", json={"input": BENIGN[int(due * 1000) % len(BENIGN)],
                                                                "age": 11})
                latency = time.perf_counter() - due
                normal.append(latency)
                if r.status_code != 200:
                    normal_errors[str(r.status_code)] = normal_errors.get(str(r.status_code), 0) + 1
            except httpx.HTTPError as exc:
                normal_errors[type(exc).__name__] = normal_errors.get(type(exc).__name__, 0) + 1

        async def fire_health(due: float) -> None:
            try:
                await client.get("/healthz")
                health.append(time.perf_counter() - due)
            except httpx.HTTPError:
                health.append(10.0)

        async def fire_long_word(due: float) -> None:
            word = "Haupt" + "a-" * 20_000 + "straße 5"
            try:
                r = await client.post("/v1/moderations", json={"input": f"i want to kill myself {word}", "age": 12})
                await count("long_word", r.status_code)
            except httpx.HTTPError as exc:
                await count("long_word", type(exc).__name__)

        async def fire_report_word(due: float) -> None:
            try:
                r = await client.post("/v1/reports", json={"kind": "hurt_myself", "message": "x" * 4000})
                await count("report_long_word", r.status_code)
            except httpx.HTTPError as exc:
                await count("report_long_word", type(exc).__name__)

        async def fire_flood(due: float) -> None:
            try:
                r = await client.post("/v1/reports", json={"kind": "hurt_myself", "message": "hurt myself",
                                                            "age": 6})
                await count("report_flood", r.status_code)
            except httpx.HTTPError as exc:
                await count("report_flood", type(exc).__name__)

        async def fire_chat(due: float) -> None:
            try:
                r = await client.post("/v1/chat/completions", timeout=8, json={
                    "model": "m", "messages": [{"role": "user", "content": "tell me a story"}], "stream": True})
                await count("chat", r.status_code)
            except httpx.HTTPError as exc:
                await count("chat", type(exc).__name__)

        await asyncio.gather(
            _open_loop(rate, seconds, fire_normal), _open_loop(4, seconds, fire_health),
            _open_loop(2, seconds, fire_long_word), _open_loop(20, seconds, fire_report_word),
            _open_loop(20, seconds, fire_flood), _open_loop(5, seconds, fire_chat),
            _slow_clients(port, slow, seconds, slow_stats))
    return {"normal": {"requests": len(normal), "p50_ms": _pct(normal, 0.5), "p99_ms": _pct(normal, 0.99),
                       "max_ms": _pct(normal, 1.0), "errors": normal_errors},
            "healthz": {"polls": len(health), "p99_ms": _pct(health, 0.99), "max_ms": _pct(health, 1.0)},
            "hostile": hostile, "slow_clients": {"connections": slow, **slow_stats}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=40)
    ap.add_argument("--rate", type=float, default=40, help="normal moderation requests per second")
    ap.add_argument("--slow", type=int, default=300, help="slow-header connections held open")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    data = Path(tempfile.mkdtemp(prefix="cg_hostile_"))
    port, upstream_port = _free_port(), _free_port()
    env = {**os.environ, "CHILDGUARD_DATABASE_URL": f"sqlite:///{data}/cg.db",
           "CHILDGUARD_KEY_FILE": str(data / "key"), "CHILDGUARD_SPOOL_FILE": str(data / "spool.log"),
           "CHILDGUARD_UPSTREAM_URL": f"http://127.0.0.1:{upstream_port}/v1",
           "CHILDGUARD_RATE_LIMIT_PER_MINUTE": "100000", "CHILDGUARD_RATE_LIMIT_BURST": "10000"}

    async def go() -> dict[str, Any]:
        upstream = await _hanging_upstream(upstream_port)
        server = subprocess.Popen([sys.executable, "-m", "childguard", "serve", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            base = f"http://127.0.0.1:{port}"
            async with httpx.AsyncClient() as probe:
                for _ in range(240):
                    try:
                        if (await probe.get(f"{base}/healthz")).status_code == 200:
                            break
                    except httpx.HTTPError:
                        await asyncio.sleep(0.5)
            result = await run(base, port, args.seconds, args.rate, args.slow)
            result["config"] = {"seconds": args.seconds, "normal_rate": args.rate, "workers": 1, "store": "sqlite",
                                "load_avg_1m": os.getloadavg()[0], "cores": os.cpu_count()}
            return result
        finally:
            server.terminate()
            try:
                _, err = server.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                _, err = server.communicate()
            upstream.close()
            log = err.decode(errors="replace")
            print(f"service stderr: {len(log)} bytes", file=sys.stderr)

    result = asyncio.run(go())
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)


if __name__ == "__main__":
    main()
