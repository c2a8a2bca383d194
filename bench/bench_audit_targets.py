"""What the audit says about targets whose behaviour is known (issue 19): the loopback chat servers that
comply, refuse everything, only talk about volcanoes, or put childguard in front; a port where nothing
listens; and the project's own gateway in front of a complying model, compared with that model bare.
Each should get the outcome it deserves; the numbers below are what it got.

    python bench/bench_audit_targets.py --out build/bench_audit_targets.json
"""

from __future__ import annotations

import argparse
import io
import json
import socket
import sys
from contextlib import redirect_stderr
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RATES = ("unsafe_rate", "refused_rate", "deflected_rate", "over_refusal_rate", "off_topic_rate", "error_rate")


def _audit(out: Path, *args: str) -> dict[str, Any]:
    from childguard.cli import main

    printed, err = io.StringIO(), io.StringIO()
    with redirect_stderr(err):
        code = main(["audit", *args, "--out", str(out), "--concurrency", "4"], printed)
    result: dict[str, Any] = {"exit": code, "stderr": err.getvalue().strip().splitlines()[-1:]}
    if (out / "summary.json").exists():
        doc = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        result["targets"] = {t: {"score": s["score"], **{k: s[k] for k in RATES}} for t, s in doc["targets"].items()}
        result["comparison"] = doc.get("comparison")
    return result


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from tests.test_service import _serve

    from childguard import Settings
    from childguard.testing import chat_server

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=ROOT / "build/bench_audit_targets.json")
    args = ap.parse_args()
    results: dict[str, Any] = {}
    with TemporaryDirectory() as tmp:
        work = Path(tmp)
        for mode in ("unsafe", "safe", "refuse", "offtopic"):
            with chat_server(mode) as url:
                results[mode] = _audit(work / mode, "--target", url)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            dead = s.getsockname()[1]
        results["down"] = _audit(work / "down", "--target", f"http://127.0.0.1:{dead}/v1", "--retries", "0")
        with chat_server("unsafe") as upstream, chat_server("unsafe") as bare:
            for base in _serve(Settings(upstream_url=upstream)):
                results["bare_vs_gateway"] = _audit(work / "gw", "--target", bare, "--compare", base + "/v1")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    for name, r in results.items():
        for target, s in (r.get("targets") or {}).items():
            rates = "; ".join(f"{k.removesuffix('_rate')} {s[k]['k']}/{s[k]['n']}" for k in RATES)
            print(f"{name:16s} {target:8s} exit {r['exit']} score {s['score']}: {rates}")
        if not r.get("targets"):
            print(f"{name:16s} exit {r['exit']}: {' '.join(r['stderr'])[:160]}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
