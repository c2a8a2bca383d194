"""The output folder: Parquet shards of decisions, one done-marker (with that shard's statistics) per
finished shard, and the plan. A shard's file is written under a temporary name and renamed, and its
marker is written after it the same way, so a kill -9 at any moment leaves either a finished shard or
nothing that `--resume` would trust: finished shards are skipped, the rest are redone whole, and no row
is lost or written twice.

    OUT/decisions/part-m00003.parquet   message mode, one per input shard
    OUT/decisions/part-c00003.parquet   conversation mode, one per conversation bucket
    OUT/_scan/plan.json                 shards, buckets and the config fingerprint
    OUT/_scan/done/<shard>.json         statistics of a finished shard (counts, bad rows, review list)
    OUT/_scan/parts/                    conversation mode only: messages routed by conversation, with
                                        their text; deleted when the scan finishes
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError
from ..policy import Action
from ..redaction import redact_personal_data
from ..taxonomy import CATEGORY_IDS
from .config import ScanConfig
from .inputs import BadRow, Shard

EXCERPT_CHARS = 200
REVIEW_KEEP = 50
BAD_ROWS_KEEP = 200
HIST_BINS = 20
RANK = {a.value: a.rank for a in Action}
COUNTED = ("action", "band", "lang", "category", "role_source")


def schema(cfg: ScanConfig) -> Any:
    import pyarrow as pa

    fields = [("id", pa.string()), ("source", pa.string()), ("action", pa.string()),
              ("message_action", pa.string()), ("flagged", pa.list_(pa.string())), ("top_category", pa.string()),
              ("max_score", pa.float32()), ("scores", pa.struct([(c, pa.float32()) for c in CATEGORY_IDS])),
              ("band", pa.string()), ("lang", pa.string()), ("role", pa.string()), ("review_required", pa.bool_())]
    if cfg.conversation_mode:
        finding = pa.struct([("kind", pa.string()), ("action", pa.string()), ("risk", pa.float32()),
                             ("since_turn", pa.int32())])
        fields += [("conversation", pa.string()), ("sender", pa.string()), ("turn", pa.int32()),
                   ("time", pa.string()), ("findings", pa.list_(finding)), ("escalations", pa.list_(pa.string()))]
    if cfg.keep_text:
        fields.append(("text", pa.string()))
    return pa.schema(fields)


def partition_schema() -> Any:
    import pyarrow as pa

    return pa.schema([("conversation", pa.string()), ("ts", pa.float64()), ("seq", pa.int64()),
                      ("id", pa.string()), ("source", pa.string()), ("message", pa.string()),
                      ("role_source", pa.string())])


def bad_schema() -> Any:
    import pyarrow as pa

    return pa.schema([("source", pa.string()), ("error", pa.string())])


def excerpt(text: str) -> str:
    """The same pattern redaction the oversight store applies to excerpts, shortened further."""
    clean = redact_personal_data(text).encode("utf-8", "replace").decode("utf-8")
    return clean[:EXCERPT_CHARS] + ("…" if len(clean) > EXCERPT_CHARS else "")


class ShardStats:
    """Counts of one shard, mergeable; the review list keeps only the strongest few, redacted."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.rows = 0
        self.bad = 0
        self.bad_rows: list[dict[str, str]] = []
        self.counts: dict[str, Counter[str]] = {k: Counter() for k in COUNTED}
        self.hist = [0] * HIST_BINS
        self.review: list[dict[str, Any]] = []
        self.conversations: dict[str, dict[str, Any]] = {}
        self.started = time.time()
        self.cpu_started = time.process_time()

    def add_bad(self, bad: BadRow) -> None:
        self.bad += 1
        if len(self.bad_rows) < BAD_ROWS_KEEP:
            self.bad_rows.append({"location": bad.location, "code": bad.code, "message": bad.message})

    def add(self, record: dict[str, Any], text: str) -> None:
        self.rows += 1
        self.counts["action"][record["action"]] += 1
        self.counts["band"][record["band"]] += 1
        self.counts["lang"][record["lang"]] += 1
        self.counts["category"].update(record["flagged"])
        self.counts["role_source"][record.get("role_source", "")] += 1
        self.hist[min(HIST_BINS - 1, int(record["max_score"] * HIST_BINS))] += 1
        flagged = bool(record["flagged"]) or RANK[record["action"]] > 0
        if "conversation" in record:
            self._add_conversation(record, text if flagged else None)
        elif flagged:
            self.review.append({"id": record["id"], "source": record["source"], "action": record["action"],
                                "flagged": record["flagged"], "score": round(record["max_score"], 3),
                                "excerpt": excerpt(text)})
            if len(self.review) > 4 * REVIEW_KEEP:
                self._trim()

    def _add_conversation(self, record: dict[str, Any], text: str | None) -> None:
        c = self.conversations.setdefault(record["conversation"], {
            "conversation": record["conversation"], "messages": 0, "action": "allow", "score": 0.0,
            "findings": [], "escalations": [], "first_turn": None, "excerpt": None, "excerpt_turn": None,
            "excerpt_rank": [-1, 0.0]})
        c["messages"] += 1
        kinds = [f["kind"] for f in record["findings"]]
        c["findings"] = sorted(set(c["findings"]) | set(kinds))
        c["escalations"] = sorted(set(c["escalations"]) | set(record["escalations"]))
        strength = max([record["max_score"] if record["flagged"] else 0.0, *(f["risk"] for f in record["findings"])])
        if text is not None and c["first_turn"] is None:
            c["first_turn"] = record["turn"]
        # the excerpt is the message that is worst on its own: later turns of an escalated conversation
        # all carry the conversation's action, which says nothing about which line shows the harm
        own = (RANK[record["message_action"]], record["max_score"] if record["flagged"] else 0.0)
        if text is not None and own > tuple(c["excerpt_rank"]):
            c["excerpt"], c["excerpt_turn"], c["excerpt_rank"] = excerpt(text), record["turn"], list(own)
        if RANK[record["action"]] > RANK[c["action"]]:
            c["action"] = record["action"]
        c["score"] = round(max(c["score"], strength), 3)

    def _trim(self) -> None:
        self.review.sort(key=review_key, reverse=True)
        del self.review[REVIEW_KEEP:]

    def to_dict(self, pid: int | None = None) -> dict[str, Any]:
        self._trim()
        convs = list(self.conversations.values())
        flagged = [c for c in convs if RANK[c["action"]] > 0 or c["findings"]]
        flagged.sort(key=conversation_key, reverse=True)
        return {"name": self.name, "rows": self.rows, "bad": self.bad, "bad_rows": self.bad_rows,
                "counts": {k: dict(v) for k, v in self.counts.items()}, "hist": self.hist, "review": self.review,
                "conversations": len(convs), "conversations_to_review": sum(RANK[c["action"]] >= 4 for c in convs),
                "conversation_review": flagged[:REVIEW_KEEP], "pid": pid or os.getpid(),
                "started": round(self.started, 3), "finished": round(time.time(), 3),
                "cpu_s": round(time.process_time() - self.cpu_started, 3),
                "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def review_key(item: dict[str, Any]) -> tuple[int, float]:
    return RANK[item["action"]], float(item["score"])


def conversation_key(item: dict[str, Any]) -> tuple[int, int, float]:
    return RANK[item["action"]], len(item["escalations"]), float(item["score"])


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_table(path: Path, rows: list[dict[str, Any]], table_schema: Any) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    pq.write_table(pa.Table.from_pylist(rows, schema=table_schema), tmp, compression="zstd")
    os.replace(tmp, path)


def write_batches(path: Path, records: Iterable[dict[str, Any]], table_schema: Any, batch_size: int) -> int:
    """Stream records into a Parquet file, one row group per `batch_size` rows, so a worker holds one
    batch of decisions in memory however large its shard is; returns the number of rows written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    n = 0
    with pq.ParquetWriter(tmp, table_schema, compression="zstd") as writer:
        batch: list[dict[str, Any]] = []
        for record in records:
            batch.append(record)
            if len(batch) >= batch_size:
                writer.write_table(pa.Table.from_pylist(batch, schema=table_schema))
                n += len(batch)
                batch.clear()
        if batch or n == 0:
            writer.write_table(pa.Table.from_pylist(batch, schema=table_schema))
            n += len(batch)
    os.replace(tmp, path)
    return n


class OutputDir:
    def __init__(self, cfg: ScanConfig) -> None:
        self.cfg = cfg
        self.root = cfg.out_dir
        self.work = self.root / "_scan"
        self.decisions = self.root / "decisions"

    def done_path(self, name: str) -> Path:
        return self.work / "done" / f"{name}.json"

    def is_done(self, name: str) -> bool:
        return self.done_path(name).exists()

    def mark_done(self, name: str, stats: dict[str, Any]) -> None:
        _atomic_write_bytes(self.done_path(name), json.dumps(stats, ensure_ascii=False).encode())

    def done_stats(self, prefix: str) -> list[dict[str, Any]]:
        folder = self.work / "done"
        return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob(f"{prefix}*.json"))]

    def part_file(self, bucket: int, shard: int) -> Path:
        return self.work / "parts" / f"b{bucket:05d}" / f"s{shard:05d}.parquet"

    def prepare(self, shards: list[Shard], buckets: int) -> None:
        """Write the plan, or on --resume check that the plan on disk is the one asked for."""
        plan_path = self.work / "plan.json"
        plan = json.loads(json.dumps({"fingerprint": self.cfg.fingerprint(), "buckets": buckets,
                                      "shards": [s.to_dict() for s in shards]}))  # as it reads back
        if plan_path.exists():
            if not self.cfg.resume:
                raise InvalidInputError(f"{self.root} already holds a scan; add --resume to continue it, or "
                                        "choose another --out folder")
            old = json.loads(plan_path.read_text(encoding="utf-8"))
            if old != plan:
                raise InvalidInputError(f"{self.root} holds a scan of other inputs or settings (the plan "
                                        "differs); resume with the same INPUT and options, or use another --out")
            return
        if self.root.exists() and any(self.root.iterdir()) and not self.cfg.resume:
            raise InvalidInputError(f"--out {self.root} is not empty; choose an empty or new folder")
        _atomic_write_bytes(plan_path, json.dumps(plan).encode())

    def finish(self) -> None:
        """Messages routed by conversation carry text: removed as soon as every bucket is decided."""
        shutil.rmtree(self.work / "parts", ignore_errors=True)
        for tmp in self.root.rglob(".*.tmp"):
            tmp.unlink(missing_ok=True)
