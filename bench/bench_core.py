"""Core decision benchmarks (targets): single-message latency, batch throughput on both
cores, import + model load time, peak memory and model size. Prints a table and writes JSON.

    python bench/bench_core.py --out build/bench_core.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"p50_ms": 1.0, "p99_ms": 5.0, "batch_msgs_per_s": 2000, "load_s": 1.5, "peak_rss_mb": 500,
           "model_mb": 50}


def messages() -> list[str]:
    out = []
    for path in sorted((ROOT / "training/seeds").glob("*.yaml")):
        for texts in yaml.safe_load(path.read_text(encoding="utf-8")).values():
            out.extend(str(t)[:280] for t in texts)
    return out


def long_messages() -> list[str]:
    """Seed messages joined into 250-280 character messages: the top of the target's range."""
    out, cur = [], ""
    for m in messages():
        cur = f"{cur} {m}".strip()
        if len(cur) >= 250:
            out.append(cur[:280])
            cur = ""
    return out


def cold_start() -> dict[str, float]:
    """Import + model load + first check, and peak RSS after 2,000 checks, in a fresh interpreter."""
    code = (
        "import time, resource\n"
        "t = time.perf_counter()\n"
        "from childguard import Guard\n"
        "g = Guard(); g.check('hello there', age=10)\n"
        "load = time.perf_counter() - t\n"
        f"msgs = {messages()[:2000]!r}\n"
        "for m in msgs: g.check(m, age=10)\n"
        "print(load, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
    )
    loads, rss = [], []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        a, b = out.stdout.split()
        loads.append(float(a))
        rss.append(float(b))
    return {"load_s": round(min(loads), 3), "load_s_max": round(max(loads), 3), "peak_rss_mb": round(max(rss), 1)}


def latency(n: int, msgs: list[str]) -> dict[str, float]:
    from childguard import Guard

    guard = Guard()
    for m in msgs[:300]:
        guard.check(m, age=10)
    samples = []
    for i in range(n):
        m = msgs[i % len(msgs)]
        t = time.perf_counter_ns()
        guard.check(m, age=10)
        samples.append((time.perf_counter_ns() - t) / 1e6)
    samples.sort()
    return {
        "messages": n,
        "mean_chars": round(statistics.mean(len(msgs[i % len(msgs)]) for i in range(n)), 1),
        "p50_ms": round(samples[n // 2], 3),
        "p95_ms": round(samples[int(n * 0.95)], 3),
        "p99_ms": round(samples[int(n * 0.99)], 3),
        "max_ms": round(samples[-1], 3),
    }


def throughput(n: int, workers: int) -> dict[str, float]:
    from childguard import CheckRequest, Guard

    guard = Guard()
    msgs = messages()
    reqs = [CheckRequest(msgs[i % len(msgs)], age=10) for i in range(n)]
    t = time.perf_counter()
    results = guard.check_many(reqs, workers=workers, chunksize=256)
    dt = time.perf_counter() - t
    assert len(results) == n
    return {"messages": n, "workers": workers, "seconds": round(dt, 3), "msgs_per_s": round(n / dt, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=ROOT / "build/bench_core.json")
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--batch", type=int, default=20000)
    args = ap.parse_args()

    model = ROOT / "src/childguard/models/classifier.npz"
    result = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "latency_single_thread": latency(args.n, messages()),
        "latency_280_chars": latency(args.n, long_messages()),
        "batch_1_worker": throughput(args.batch // 2, 1),
        "batch_2_workers": throughput(args.batch, 2),
        "cold_start": cold_start(),
        "model_mb": round(model.stat().st_size / 2**20, 2),
        "targets": TARGETS,
    }
    checks = {
        "p50_ms": max(result["latency_single_thread"]["p50_ms"], result["latency_280_chars"]["p50_ms"])
        <= TARGETS["p50_ms"],
        "p99_ms": max(result["latency_single_thread"]["p99_ms"], result["latency_280_chars"]["p99_ms"])
        <= TARGETS["p99_ms"],
        "batch_msgs_per_s": result["batch_2_workers"]["msgs_per_s"] >= TARGETS["batch_msgs_per_s"],
        "load_s": result["cold_start"]["load_s"] <= TARGETS["load_s"],
        "peak_rss_mb": result["cold_start"]["peak_rss_mb"] <= TARGETS["peak_rss_mb"],
        "model_mb": result["model_mb"] <= TARGETS["model_mb"],
    }
    result["met"] = checks
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    b1, b2, cs = result["batch_1_worker"], result["batch_2_workers"], result["cold_start"]
    for lat in (result["latency_single_thread"], result["latency_280_chars"]):
        print(f"single message (mean {lat['mean_chars']} chars): p50 {lat['p50_ms']} ms, p95 {lat['p95_ms']} ms, "
              f"p99 {lat['p99_ms']} ms, max {lat['max_ms']} ms")
    print(f"batch: {b1['msgs_per_s']} msg/s on 1 worker, {b2['msgs_per_s']} msg/s on 2 workers")
    print(f"import + model load + first check: {cs['load_s']} s (worst of 3: {cs['load_s_max']} s); "
          f"peak RSS {cs['peak_rss_mb']} MB; model file {result['model_mb']} MB")
    print("targets met: " + ", ".join(f"{k}={'yes' if v else 'NO'}" for k, v in checks.items()))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
