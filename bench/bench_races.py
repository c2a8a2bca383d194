"""Concurrency benchmark for the stores: parallel audit appends (SQLite, and PostgreSQL when reachable),
parallel sign-in guesses on one account, and parallel messages to one conversation in Redis (two
workers) and in memory. Bounded: a few hundred operations each, loopback only, about a minute.

    python bench/bench_races.py --out build/bench_races.json
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from childguard import Guard, Settings
from childguard.conversation import ConversationGuard, MemoryStateStore, RedisStateStore
from childguard.errors import AuthError
from childguard.store import Store
from childguard.store.accounts import Accounts

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def audit_appends(store: Store, n: int = 300, threads: int = 32) -> dict[str, Any]:
    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda i: store.audit("bench", "login_failed", "unknown user"), range(n)))
    took = time.perf_counter() - start
    return {"appends": n, "threads": threads, "seconds": round(took, 2), "per_s": round(n / took),
            "entries": len(store.audit_log()), "chain_intact": store.verify_audit_log()}


def guesses(store: Store, n: int = 50) -> dict[str, Any]:
    accounts = Accounts(store, backoff_s=60)
    accounts.add_user("bench-mod", "correct horse battery")

    def guess(i: int, password: str | None = None) -> bool:
        try:
            accounts.login("bench-mod", password or f"wrong {i}", client=f"203.0.113.{i}")
        except AuthError:
            return False
        return True

    start = time.perf_counter()
    with ThreadPoolExecutor(25) as pool:
        admitted = sum(pool.map(guess, range(n)))
    checked = sum(e["action"] == "login_failed" and e["actor"] == "bench-mod" for e in store.audit_log())
    return {"parallel_wrong_guesses": n, "signed_in": admitted, "passwords_checked": checked,
            "right_password_then_signed_in": guess(99, "correct horse battery"),
            "seconds": round(time.perf_counter() - start, 2)}


def conversation(workers: list[ConversationGuard], n: int = 200, threads: int = 16) -> dict[str, Any]:
    cid = uuid.uuid4().hex
    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        turns = list(pool.map(lambda i: workers[i % len(workers)].observe(
            {"conversation": cid, "sender": f"s{i % 7}", "role": "contact", "text": "did you finish the homework?",
             "age": 12}).turn, range(n)))
    took = time.perf_counter() - start
    state = workers[0].store.load(cid)
    workers[0].forget(cid)
    return {"messages": n, "threads": threads, "workers": len(workers), "seconds": round(took, 2),
            "per_s": round(n / took), "turns_counted": state.turns if state else 0,
            "distinct_turn_numbers": len(set(turns))}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    settings = Settings(key_file=tmp / "key")
    out: dict[str, Any] = {"sqlite": {}, "postgresql": {}, "conversation": {}}
    sqlite = Store(settings, f"sqlite:///{tmp}/bench.db")
    out["sqlite"] = {"audit": audit_appends(sqlite), "login": guesses(sqlite)}
    try:
        admin = create_engine(PG)
        schema = f"cg_bench_{uuid.uuid4().hex[:8]}"
        with admin.begin() as c:
            c.execute(text(f"create schema {schema}"))
        try:
            pg = Store(settings, f"{PG}?options=-csearch_path%3D{schema}")
            out["postgresql"] = {"audit": audit_appends(pg), "login": guesses(pg)}
            pg.engine.dispose()
        finally:
            with admin.begin() as c:
                c.execute(text(f"drop schema {schema} cascade"))
    except Exception as exc:  # PostgreSQL is optional here
        out["postgresql"] = {"skipped": str(exc)[:200]}
    guard = Guard()
    memory = ConversationGuard(guard, MemoryStateStore())
    out["conversation"]["memory"] = conversation([memory])
    prefix = f"cgbench:{uuid.uuid4().hex}:"
    try:
        redis_workers = [ConversationGuard(guard, RedisStateStore(prefix=prefix, ttl_s=120)) for _ in range(2)]
        out["conversation"]["redis_two_workers"] = conversation(redis_workers)
    except Exception as exc:  # Redis too
        out["conversation"]["redis_two_workers"] = {"skipped": str(exc)[:200]}
    text_out = json.dumps(out, indent=2)
    print(text_out)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text_out + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
