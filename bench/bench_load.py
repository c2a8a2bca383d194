"""Load and soak of the service on PostgreSQL and Redis, with a database stall in the middle
(targets: 500 requests/s for 60 s, 5 % escalating; 0 errors; p99 <= 100 ms; RSS growth <= 10 %;
during a 10 s database stall /healthz stays green and no escalation is lost).

Loopback only and bounded in time. `childguard serve` runs in its own process (optionally with
`--workers`) on a fresh PostgreSQL schema, reached through a TCP proxy in this process so the stall is
the proxy's (the shared PostgreSQL itself is never paused), and with conversation state in Redis
(unique conversation ids, 60 s TTL, deleted afterwards). The load is open-loop: request i is sent at
start + i / rate whatever happened to the earlier ones, so a slow service shows as latency and errors,
not as a politely lower rate (latency counts from when a request was due). The client is a hand-written
keep-alive HTTP/1.1 client, cheap enough not to need the cores it measures. Mix: 5 % escalating
moderation requests, 10 % conversation messages (Redis), the rest ordinary moderation requests.

    python bench/bench_load.py --rate 500 --seconds 60 --stall-at 25 --stall-seconds 10 \\
        --out build/bench_load.json
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
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis
from sqlalchemy import create_engine, text

from childguard.testing import TcpProxy

ROOT = Path(__file__).resolve().parents[1]
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BENIGN = ["can you help me with my maths homework?", "what is the biggest planet?", "i like drawing cats",
          "how do volcanoes work?", "my friend and i are building a treehouse", "what should i read next?"]
ESCALATING = ["i want to kill myself", "my uncle touches me and says it is our secret",
              "someone online asked me to send naked photos", "my dad hits me when he is angry"]


@dataclass
class Sample:
    sent: float  # seconds since the start of the load
    latency: float
    status: int
    kind: str
    recorded: str | None = None


@dataclass
class Run:
    samples: list[Sample] = field(default_factory=list)
    health: list[tuple[float, float, int]] = field(default_factory=list)  # sent, latency, status
    ready: list[tuple[float, int, str]] = field(default_factory=list)
    client_errors: dict[str, int] = field(default_factory=dict)
    in_flight: list[tuple[float, int]] = field(default_factory=list)  # the service's decisions in flight


def _rss_kb(pid: int) -> int:
    """Resident memory of the service: the process and its workers."""
    pids = [pid] + [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    total = 0
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def _cpu_s(pid: int) -> float:
    """CPU seconds used by the service's processes (user + system), to tell a slow service from a starved one."""
    pids = [pid] + [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for p in pids:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _load_avg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def _summary(samples: list[Sample], seconds: float) -> dict[str, Any]:
    lat = [s.latency for s in samples if s.status != -1]  # dropped requests have no latency; they are errors
    errors = sum(1 for s in samples if s.status not in (200, 201))
    return {"requests": len(samples), "achieved_rps": round(len(samples) / seconds, 1) if seconds else None,
            "errors": errors, "error_statuses": sorted({s.status for s in samples if s.status not in (200, 201)}),
            "p50_ms": _pct(lat, 0.50), "p99_ms": _pct(lat, 0.99), "max_ms": _pct(lat, 1.0)}


class _Connection:
    """One keep-alive HTTP/1.1 connection, written by hand: an httpx client costs the 2-core box as much
    CPU per request as the service itself, and more as latency grows, so it would measure itself."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._r: asyncio.StreamReader | None = None
        self._w: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self._w is None:
            self._r, self._w = await asyncio.open_connection(self.host, self.port)
        assert self._r is not None
        try:
            self._w.write(b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                          b"Content-Length: %d\r\n\r\n%s" % (path.encode(), self.host.encode(), len(body), body))
            head = await self._r.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            return int(head[9:12]), await self._r.readexactly(length)
        except (OSError, asyncio.IncompleteReadError):
            self._w.close()
            self._w = None
            raise


def _request(i: int, run_id: str, escalate: bool) -> tuple[str, str, bytes]:
    if i % 20 == 0 and escalate:
        kind, path = "escalating", "/v1/moderations"
        body: dict[str, Any] = {"input": ESCALATING[i % len(ESCALATING)], "age": 12}
    elif i % 10 == 5:
        kind, path = "conversation", "/v1/conversations/messages"
        body = {"conversation": f"bench-{run_id}-{i % 200}", "sender": "child", "role": "child",
                "text": BENIGN[i % len(BENIGN)], "age": 11}
    else:
        kind, path = "moderation", "/v1/moderations"
        body = {"input": BENIGN[i % len(BENIGN)], "age": 11}
    return kind, path, json.dumps(body).encode()


async def _load(base: str, rate: float, seconds: float, run_id: str, proxy: TcpProxy, stall_at: float,
                stall_s: float, connections: int, max_backlog: int, escalate: bool = True) -> Run:
    """Open loop: request i is due at start + i / rate. `connections` keep-alive connections take due
    requests in order; latency counts from when a request was due, so time spent waiting for a free
    connection (the service being slow) is in it. More than `max_backlog` due requests waiting: the
    new one is dropped and counted as an error."""
    run = Run()
    host, port = base.split("//", 1)[1].split(":")
    due: asyncio.Queue[tuple[int, float] | None] = asyncio.Queue()
    start = time.monotonic()

    async def connection() -> None:
        conn = _Connection(host, int(port))
        while (job := await due.get()) is not None:
            i, at = job
            kind, path, body = _request(i, run_id, escalate)
            try:
                status, data = await conn.post(path, body)
                recorded = None
                if kind == "escalating" and status == 200:
                    recorded = json.loads(data)["results"][0]["recorded"]
                run.samples.append(Sample(at, time.monotonic() - start - at, status, kind, recorded))
            except (OSError, asyncio.IncompleteReadError) as exc:
                name = type(exc).__name__
                run.client_errors[name] = run.client_errors.get(name, 0) + 1
                run.samples.append(Sample(at, time.monotonic() - start - at, 0, kind))

    async def watch() -> None:
        """/healthz and /readyz twice a second, on their own connection."""
        async with httpx.AsyncClient(base_url=base, timeout=10) as probe:
            while (now := time.monotonic() - start) < seconds:
                t0 = time.perf_counter()
                try:
                    h = await probe.get("/healthz")
                    run.health.append((now, time.perf_counter() - t0, h.status_code))
                    run.in_flight.append((round(now, 1), h.json().get("decisions_in_flight", 0)))
                    r = await probe.get("/readyz")
                    stores = r.json().get("stores", {})
                    run.ready.append((now, r.status_code, str(stores.get("database"))))
                except httpx.HTTPError:
                    run.health.append((now, time.perf_counter() - t0, 0))
                await asyncio.sleep(0.5)

    async def stall() -> None:
        if stall_s <= 0:
            return
        await asyncio.sleep(stall_at)
        proxy.stall()
        await asyncio.sleep(stall_s)
        proxy.resume()

    workers = [asyncio.create_task(connection()) for _ in range(connections)]
    side = [asyncio.create_task(watch()), asyncio.create_task(stall())]
    i = 0
    while (at := i / rate) < seconds:
        delay = start + at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        if due.qsize() >= max_backlog:  # the client's own bound: counted as an error, not queued
            run.samples.append(Sample(at, 0.0, -1, "dropped"))
        else:
            due.put_nowait((i, at))
        i += 1
    for _ in workers:
        due.put_nowait(None)
    await asyncio.gather(*workers, *side)
    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rate", type=float, default=500.0, help="requests per second (open loop)")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--stall-at", type=float, default=25.0, help="seconds into the load; 0 stall-seconds: none")
    ap.add_argument("--stall-seconds", type=float, default=10.0)
    ap.add_argument("--workers", type=int, default=1, help="service processes (childguard serve --workers)")
    ap.add_argument("--connections", type=int, default=32, help="keep-alive connections of the load client")
    ap.add_argument("--max-backlog", type=int, default=1000, help="due requests waiting for a connection")
    ap.add_argument("--out", type=Path, default=ROOT / "build/bench_load.json")
    args = ap.parse_args()

    run_id = uuid.uuid4().hex[:10]
    schema = f"cg_bench_{run_id}"
    admin = create_engine(PG)
    with admin.begin() as c:
        c.execute(text(f"create schema {schema}"))
    data = Path(tempfile.mkdtemp(prefix="cg_bench_"))
    proxy = TcpProxy("127.0.0.1", 5432).start()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "CHILDGUARD_RATE_LIMIT_PER_MINUTE": "100000000", "CHILDGUARD_RATE_LIMIT_BURST": "1000000",
           "CHILDGUARD_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{proxy.port}/test"
                                      f"?options=-csearch_path%3D{schema}",
           "CHILDGUARD_CONVERSATION_STORE": "redis", "CHILDGUARD_REDIS_URL": "redis://127.0.0.1:6379/0",
           "CHILDGUARD_CONVERSATION_TTL_S": "60", "CHILDGUARD_KEY_FILE": str(data / "key"),
           "CHILDGUARD_SPOOL_FILE": str(data / "spool.log")}
    server = subprocess.Popen([sys.executable, "-m", "childguard", "serve", "--port", str(port),
                               "--workers", str(args.workers)], env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        # warm-up, then the RSS baseline
        asyncio.run(_load(base, min(args.rate, 100), 3.0, run_id, proxy, 0, 0, args.connections, args.max_backlog,
                          escalate=False))
        rss_start = _rss_kb(server.pid)
        cpu_start, load_start, self_cpu = _cpu_s(server.pid), _load_avg(), time.process_time()
        t0 = time.monotonic()
        run = asyncio.run(_load(base, args.rate, args.seconds, run_id, proxy, args.stall_at, args.stall_seconds,
                                args.connections, args.max_backlog))
        wall = time.monotonic() - t0
        rss_end = _rss_kb(server.pid)
        cpu = {"service_cpu_s": round(_cpu_s(server.pid) - cpu_start, 1),
               "load_client_cpu_s": round(time.process_time() - self_cpu, 1),
               "host_load_average_1min": {"start": load_start, "end": _load_avg()}, "host_cores": os.cpu_count()}
        drained_after = None
        t_drain = time.monotonic()
        while time.monotonic() - t_drain < 60:  # the spool replays once the database answers
            r = httpx.get(f"{base}/readyz", timeout=5)
            if r.status_code == 200 and r.json()["stores"].get("spool") == "empty":
                drained_after = round(time.monotonic() - t_drain, 2)
                break
            time.sleep(0.5)
        time.sleep(1.0)
        with admin.connect() as c:
            stored = c.execute(text(f"select count(*) from {schema}.review_cases")).scalar_one()
            distinct = c.execute(text(f"select count(distinct case_key) from {schema}.review_cases")).scalar_one()
    finally:
        server.terminate()
        server.wait(timeout=30)
        proxy.close()
        with admin.begin() as c:
            c.execute(text(f"drop schema {schema} cascade"))
        admin.dispose()
        r_client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
        for key in r_client.scan_iter(match=f"childguard:conv:bench-{run_id}-*", count=500):
            r_client.delete(key)

    stall_end = args.stall_at + args.stall_seconds
    in_stall = [s for s in run.samples if args.stall_seconds and args.stall_at <= s.sent < stall_end]
    outside = [s for s in run.samples if s not in in_stall]
    acked = [s for s in run.samples if s.kind == "escalating" and s.recorded in ("stored", "spooled")]
    health_stall = [h for h in run.health if args.stall_seconds and args.stall_at <= h[0] < stall_end]
    result = {
        "command": " ".join(["python", "bench/bench_load.py", *sys.argv[1:]]),
        "rate_target": args.rate, "seconds": args.seconds, "workers": args.workers, "wall_s": round(wall, 1),
        "cpu": cpu,
        "all": _summary(run.samples, args.seconds),
        "outside_stall": _summary(outside, args.seconds - (args.stall_seconds if args.stall_seconds else 0)),
        "during_stall": _summary(in_stall, args.stall_seconds) if in_stall else None,
        "timeline": [{"second": sec, **_summary([s for s in run.samples if int(s.sent) == sec], 1.0)}
                     for sec in range(int(args.seconds))],
        "decisions_in_flight": run.in_flight,
        "health_latency_ms": [(round(h[0], 1), round(1000 * h[1], 1)) for h in run.health],
        "client_errors": run.client_errors,
        "dropped_by_client_backlog": sum(1 for s in run.samples if s.status == -1),
        "rss_kb": {"start": rss_start, "end": rss_end, "growth_pct": round(100 * (rss_end - rss_start) / rss_start, 2),
                   "requests_between": len(run.samples)},
        "health": {"probes": len(run.health), "not_200": sum(1 for h in run.health if h[2] != 200),
                   "p99_ms": _pct([h[1] for h in run.health], 0.99), "max_ms": _pct([h[1] for h in run.health], 1.0),
                   "during_stall_probes": len(health_stall),
                   "during_stall_not_200": sum(1 for h in health_stall if h[2] != 200),
                   "during_stall_max_ms": _pct([h[1] for h in health_stall], 1.0)},
        "readyz_database_down_seen": sum(1 for r in run.ready if r[2].startswith("down")),
        "escalations": {"sent": sum(1 for s in run.samples if s.kind == "escalating"), "acknowledged": len(acked),
                        "answered_without_case": sum(1 for s in run.samples if s.kind == "escalating"
                                                     and s.status == 200 and s.recorded is None),
                        "spooled": sum(1 for s in acked if s.recorded == "spooled"),
                        "cases_in_store": stored, "distinct_keys": distinct,
                        "lost": len(acked) - stored if stored < len(acked) else 0,
                        "spool_drained_after_s": drained_after},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
