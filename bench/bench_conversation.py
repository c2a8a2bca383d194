"""Conversation-level benchmark (target: a 50-turn conversation processed incrementally at
<= 2 ms per new message, p50). Replays 50-turn conversations message by message through
ConversationGuard.observe with the in-memory store, and with Redis when it is reachable.

    python bench/bench_conversation.py --out build/bench_conversation.json
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TARGET_P50_MS = 2.0


def fifty_turns() -> list[tuple[str, str, str]]:
    """Real evaluation conversations, chained and cycled to 50 turns (grooming, bullying, peers, adults)."""
    turns: list[tuple[str, str, str]] = []
    for f in sorted((ROOT / "evalsets/conversations").glob("*.yaml")):
        for conv in yaml.safe_load(f.read_text(encoding="utf-8")):
            turns.extend((r, s, t) for r, s, t in conv["messages"])
    return (turns * (50 // len(turns) + 1))[:50]


def run(store_name: str, conversations: int) -> dict[str, float]:
    from childguard import Settings
    from childguard.conversation import ConversationGuard

    cg = ConversationGuard(settings=Settings(conversation_store=store_name))
    turns = fifty_turns()
    samples: list[float] = []
    for c in range(conversations + 1):
        cid = f"bench-{uuid.uuid4().hex}"
        for role, sender, text in turns:
            t = time.perf_counter_ns()
            cg.observe({"conversation": cid, "sender": sender, "role": role, "text": text, "age": 12})
            if c:  # the first conversation warms up
                samples.append((time.perf_counter_ns() - t) / 1e6)
        cg.forget(cid)
    samples.sort()
    n = len(samples)
    return {"store": store_name, "messages": n, "p50_ms": round(samples[n // 2], 3),
            "p95_ms": round(samples[int(n * 0.95)], 3), "p99_ms": round(samples[int(n * 0.99)], 3)}


def redis_up() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_timeout=0.5).ping())
    except Exception:
        return False


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=ROOT / "build/bench_conversation.json")
    ap.add_argument("--conversations", type=int, default=40)
    args = ap.parse_args()
    results = [run("memory", args.conversations)]
    if redis_up():
        results.append(run("redis", args.conversations))
    report = {"turns_per_conversation": 50, "target_p50_ms": TARGET_P50_MS, "results": results,
              "met": all(r["p50_ms"] <= TARGET_P50_MS for r in results)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    for r in results:
        print(f"{r['store']:6s} store: {r['messages']} messages in 50-turn conversations: p50 {r['p50_ms']} ms, "
              f"p95 {r['p95_ms']} ms, p99 {r['p99_ms']} ms")
    print(f"target p50 <= {TARGET_P50_MS} ms met: {'yes' if report['met'] else 'NO'}; wrote {args.out}")


if __name__ == "__main__":
    main()
