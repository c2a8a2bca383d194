"""The Ray side: callable classes that Ray Data runs in an actor pool, so each worker process builds one
`Guard` (model, policy, helplines) once and reuses it for every shard it is given."""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from ..guard import Guard
from .config import ScanConfig
from .decide import decide_conversations, decide_messages, partition_rows
from .inputs import BadRow, Shard, read_shard
from .output import OutputDir, ShardStats, bad_schema, partition_schema, schema, write_batches, write_table


def config_to_dict(cfg: ScanConfig) -> dict[str, Any]:
    return dataclasses.asdict(cfg)


def config_from_dict(data: dict[str, Any]) -> ScanConfig:
    return ScanConfig(**{**data, "inputs": tuple(data["inputs"]), "child_sender": tuple(data["child_sender"])})


def _guard() -> Guard:
    guard = Guard()
    guard.warm_up()
    return guard


def _collect(items: Any, stats: ShardStats, keep_text: bool) -> Iterator[dict[str, Any]]:
    """Output records, with bad rows and statistics taken out on the way."""
    for item in items:
        if isinstance(item, BadRow):
            stats.add_bad(item)
            continue
        record, text = item
        stats.add(record, text)
        if keep_text:
            record["text"] = text
        yield record


class _DecisionWriter:
    """What both CLI modes share: one Guard per actor, and a finished unit of work written as one Parquet
    shard whose done-marker (written last) is what `--resume` trusts."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        self.cfg = config_from_dict(cfg)
        self.out = OutputDir(self.cfg)
        self.guard = _guard()
        self.schema = schema(self.cfg)

    def _write(self, name: str, decided: Iterator[tuple[dict[str, Any], str] | BadRow]) -> None:
        stats = ShardStats(name)
        records = _collect(decided, stats, self.cfg.keep_text)
        write_batches(self.out.decisions / f"part-{name}.parquet", records, self.schema, self.cfg.batch_size)
        self.out.mark_done(name, stats.to_dict())


class MessageShardWriter(_DecisionWriter):
    """Message mode of the CLI: one input shard in, one Parquet shard and its done-marker out."""

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        done = []
        for raw in batch["shard"]:
            shard = Shard.from_dict(json.loads(str(raw)))
            self._write(f"m{shard.index:05d}", decide_messages(read_shard(shard), self.guard, self.cfg))
            done.append(shard.rows)
        return {"rows": done}


class Partitioner:
    """Conversation mode, map side: route each valid message to its conversation's bucket on disk."""

    def __init__(self, cfg: dict[str, Any], buckets: int, keep_bad: bool = False) -> None:
        self.cfg = config_from_dict(cfg)
        self.out = OutputDir(self.cfg)
        self.buckets = buckets
        self.keep_bad = keep_bad

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        done = []
        for raw in batch["shard"]:
            shard = Shard.from_dict(json.loads(str(raw)))
            name = f"r{shard.index:05d}"
            stats = ShardStats(name)
            routed: dict[int, list[dict[str, Any]]] = defaultdict(list)
            bad: list[dict[str, Any]] = []
            for item in partition_rows(read_shard(shard), self.cfg, self.buckets):
                if isinstance(item, BadRow):
                    stats.add_bad(item)
                    bad.append(_error_record(item))
                else:
                    routed[item[0]].append(item[1])
            for bucket, rows in routed.items():
                write_table(self.out.part_file(bucket, shard.index), rows, partition_schema())
            if self.keep_bad and stats.bad:
                write_table(self.out.work / "parts" / "bad" / f"s{shard.index:05d}.parquet", bad, bad_schema())
            self.out.mark_done(name, {"name": name, "bad": stats.bad, "bad_rows": stats.bad_rows,
                                      "routed": sum(len(r) for r in routed.values())})
            done.append(shard.rows)
        return {"rows": done}


def bucket_messages(out: OutputDir, bucket: int) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    files = sorted((out.work / "parts" / f"b{bucket:05d}").glob("s*.parquet"))
    return [row for f in files for row in pq.read_table(f).to_pylist()]


class ConversationBucketWriter(_DecisionWriter):
    """Conversation mode, reduce side: every message of a bucket's conversations, in time order."""

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        done = []
        for bucket in batch["bucket"]:
            messages = bucket_messages(self.out, int(bucket))
            self._write(f"c{int(bucket):05d}", decide_conversations(messages, self.guard, self.cfg))
            done.append(len(messages))
        return {"rows": done}


def _error_record(bad: BadRow) -> dict[str, Any]:
    return {"source": bad.location, "error": f"{bad.code}: {bad.message}"}


class MessageDecider:
    """The Python API, message mode: shards in, a table of decisions out (bad rows carry `error`)."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        import pyarrow as pa

        self.cfg = config_from_dict(cfg)
        self.guard = _guard()
        self.schema = schema(self.cfg).append(pa.field("error", pa.string()))

    def __call__(self, batch: dict[str, Any]) -> Any:
        import pyarrow as pa

        rows: list[dict[str, Any]] = []
        for raw in batch["shard"]:
            for item in decide_messages(read_shard(Shard.from_dict(json.loads(str(raw)))), self.guard, self.cfg):
                if isinstance(item, BadRow):
                    rows.append(_error_record(item))
                else:
                    rows.append({**item[0], **({"text": item[1]} if self.cfg.keep_text else {})})
        return pa.Table.from_pylist(rows, schema=self.schema)


class ConversationDecider:
    """The Python API, conversation mode: one bucket of whole conversations (routed to disk) per call."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        import pyarrow as pa

        self.cfg = config_from_dict(cfg)
        self.out = OutputDir(self.cfg)
        self.guard = _guard()
        self.schema = schema(self.cfg).append(pa.field("error", pa.string()))

    def __call__(self, batch: dict[str, Any]) -> Any:
        import pyarrow as pa

        out: list[dict[str, Any]] = []
        for bucket in batch["bucket"]:
            for item in decide_conversations(bucket_messages(self.out, int(bucket)), self.guard, self.cfg):
                if isinstance(item, BadRow):
                    out.append(_error_record(item))
                else:
                    out.append({**item[0], **({"text": item[1]} if self.cfg.keep_text else {})})
        return pa.Table.from_pylist(out, schema=self.schema)
