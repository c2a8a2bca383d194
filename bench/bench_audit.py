"""Audit overhead (target: >= 200 cases/s against a zero-latency local endpoint). The target
server runs in its own process and answers instantly, so the figure is the audit's own cost:
suite expansion, async HTTP, judges (childguard detectors + answer-kind model), fsync'd appends.

    python bench/bench_audit.py --out build/bench_audit.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 200.0


def main() -> None:
    import asyncio
    import io

    from childguard import Guard
    from childguard.audit import RunConfig, Target, load_suite, run_cases

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=ROOT / "build/bench_audit.json")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3, help="runs; the median is reported")
    args = ap.parse_args()
    server = subprocess.Popen([sys.executable, "-m", "childguard.testing.chat_servers", "unsafe"],
                              stdout=subprocess.PIPE,
                              text=True)
    try:
        url = server.stdout.readline().strip() if server.stdout else ""
        t0 = time.perf_counter()
        guard = Guard()
        guard.warm_up()
        cases = load_suite()
        with tempfile.TemporaryDirectory() as warm:  # first requests import the HTTP stack lazily
            asyncio.run(run_cases(cases[:5], [Target("w", url, "m")], Path(warm), RunConfig(2, 1e6, 30, 1),
                                  guard=guard, progress_stream=io.StringIO()))
        startup = time.perf_counter() - t0
        runs = []
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                targets = [Target("a", url, "m"), Target("b", url, "m")]
                t, c0 = time.perf_counter(), time.process_time()
                records = asyncio.run(run_cases(cases, targets, Path(tmp), RunConfig(args.concurrency, 1e6, 30, 1),
                                                guard=guard, progress_stream=io.StringIO()))
                runs.append((time.perf_counter() - t, time.process_time() - c0))
        runs.sort()
        wall, cpu = runs[len(runs) // 2]
    finally:
        server.terminate()
    requests = sum(r["attempts"] for r in records)
    result = {"cases": len(records), "requests": requests, "run_seconds": round(wall, 2),
              "startup_seconds": round(startup, 2), "cases_per_s": round(len(records) / wall, 1),
              # the audit's own cost: cases per CPU-second of the audit process (the local server runs on
              # the same two cores, so wall-clock throughput also pays for the server)
              "audit_cpu_seconds": round(cpu, 2), "cases_per_audit_cpu_s": round(len(records) / cpu, 1),
              "all_runs_cases_per_s": [round(len(records) / w, 1) for w, _ in runs], "target_cases_per_s": TARGET,
              "met": len(records) / wall >= TARGET, "concurrency": args.concurrency}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"audit process CPU {cpu:.2f} s: {result['cases_per_audit_cpu_s']} cases per CPU-second")
    print(f"{len(records)} cases ({requests} requests) in {wall:.2f} s after {startup:.2f} s start-up: "
          f"{result['cases_per_s']} cases/s (target >= {TARGET}: {'met' if result['met'] else 'NOT met'}); "
          f"wrote {args.out}")


if __name__ == "__main__":
    main()
