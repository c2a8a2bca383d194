"""`childguard scan`: argument handling, kept apart from the engine so tests can call `scan_main`."""

from __future__ import annotations

import argparse
import json
from typing import IO, Any

from .config import ScanConfig


def add_parser(sub: Any) -> None:
    p = sub.add_parser("scan", help="scan chat logs or corpora (JSONL, CSV, Parquet) on Ray; resumable")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="files or folders (local, or URLs pyarrow reaches)")
    p.add_argument("--out", required=True, help="output folder (Parquet shards, summary.json, report.html)")
    age = p.add_mutually_exclusive_group()
    age.add_argument("--age", help="one age or band for every row")
    age.add_argument("--age-field", help="field holding each row's age (default: the 'age' column when a row has "
                     "one)")
    p.add_argument("--text-field", default="text")
    p.add_argument("--id-field", default="id", help="row id field (default id; else FILE:LINE)")
    p.add_argument("--role", default="child", help="role when a row has no role field (child|contact|ai_output)")
    p.add_argument("--role-field", default="role")
    p.add_argument("--conversation-field", help="turns on conversation mode: group by this field, order by time")
    p.add_argument("--sender-field", default="sender")
    p.add_argument("--child-sender", action="append", default=[], metavar="SENDER",
                   help="conversation mode: this sender is the child, every other sender a contact (repeatable; "
                        "overrides the role column)")
    p.add_argument("--lang-field", default="lang")
    p.add_argument("--country-field", default="country")
    p.add_argument("--time-field", default="time")
    p.add_argument("--keep-text", action="store_true", help="also write the message text to the Parquet shards")
    p.add_argument("--ray-address", help="join a Ray cluster (auto, ray://host:10001); default: start Ray here")
    p.add_argument("--workers", type=int, default=2, help="Ray workers, one Guard each (default 2)")
    p.add_argument("--batch-size", type=int, default=256,
                   help="rows per Parquet row group: what a worker holds in memory")
    p.add_argument("--shard-rows", type=int, default=10_000, help="rows per input shard (the unit of resume)")
    p.add_argument("--resume", action="store_true", help="continue a scan in --out, skipping finished shards")
    p.add_argument("--quiet", action="store_true", help="no progress line")


def scan_main(args: argparse.Namespace, out: IO[str]) -> int:
    from .runtime import run_scan

    cfg = ScanConfig(inputs=tuple(args.inputs), out=args.out, age=args.age, age_field=args.age_field,
                     text_field=args.text_field, id_field=args.id_field, role=args.role, role_field=args.role_field,
                     conversation_field=args.conversation_field, sender_field=args.sender_field,
                     child_sender=tuple(args.child_sender), lang_field=args.lang_field,
                     country_field=args.country_field,
                     time_field=args.time_field, keep_text=args.keep_text, workers=args.workers,
                     batch_size=args.batch_size, shard_rows=args.shard_rows, ray_address=args.ray_address,
                     resume=args.resume, progress=not args.quiet)
    summary = run_scan(cfg)
    brief = {k: summary[k] for k in ("rows", "bad_rows", "conversations", "conversations_to_review")}
    brief["actions"] = summary["counts"].get("action", {})
    brief["roles"] = summary["roles"]
    brief.update(summary["outputs"])
    out.write(json.dumps(brief, ensure_ascii=False) + "\n")
    return 0
