"""The driver: start or join Ray, plan shards, run the stages through Ray Data actor pools, report
progress, and leave a folder that `--resume` can continue after any kill."""

from __future__ import annotations

import json
import logging
import math
import os
import sys
import time
import warnings
from typing import IO, Any

from ..errors import ConfigError, ScanStartError
from .config import ScanConfig
from .inputs import Shard, plan
from .output import OutputDir, schema
from .progress import Progress
from .workers import (
    ConversationBucketWriter,
    ConversationDecider,
    MessageDecider,
    MessageShardWriter,
    Partitioner,
    config_to_dict,
)

LOOPBACK_SWITCH = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
def _ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError as exc:  # the scan extra is optional: the core package stays small
        raise ConfigError("childguard scan needs Ray Data: pip install 'childguard[scan]'") from exc
    return ray


def loopback_only(ray: Any) -> None:
    """Keep a private Ray on 127.0.0.1. Ray refuses a loopback node address on Linux (it resolves
    127.0.0.1 to the machine's outward address so other nodes can join); its own switch for
    single-machine use (the one it uses on macOS and Windows) is honoured instead. Set in the
    environment too, so the raylet and the workers it starts agree."""
    os.environ[LOOPBACK_SWITCH] = "0"
    ray._private.ray_constants.ENABLE_RAY_CLUSTER = False


def start_local(cpus: int, object_store_mb: int = 256, attempts: int = 3) -> None:
    """Start a private Ray on loopback. Ray gives its raylet a fixed 30 s to register, which a
    heavily loaded machine can miss; a clean retry then usually succeeds."""
    ray = _ray()
    loopback_only(ray)
    for attempt in range(1, attempts + 1):
        try:
            ray.init(num_cpus=cpus, include_dashboard=False, object_store_memory=object_store_mb << 20,
                     log_to_driver=False, configure_logging=False)
            return
        except Exception as exc:  # Ray raises a bare Exception for the start-up time-out
            ray.shutdown()
            if attempt == attempts:
                raise ScanStartError(f"could not start a local Ray ({attempts} tries): {exc}. Retry when the "
                                     "machine is less busy, or use fewer --workers") from exc


def connect(cfg: ScanConfig) -> Any:
    """Join the cluster at --ray-address, or start a private Ray on this machine with --workers CPUs,
    no dashboard and every address on loopback. An already initialised Ray (a notebook, the tests) is
    used as it is."""
    ray = _ray()
    for name in ("ray.data", "ray._private.authentication"):  # keep the progress line readable
        logging.getLogger(name).setLevel(logging.ERROR)
    if not ray.is_initialized():
        if cfg.ray_address:
            try:
                ray.init(address=cfg.ray_address, log_to_driver=False, configure_logging=False)
            except Exception as exc:  # ConnectionError, or a bare Exception on a time-out
                raise ScanStartError(f"could not join the Ray cluster at {cfg.ray_address}: {exc}. Check the "
                                     "address and that the cluster is up") from exc
        else:
            start_local(cfg.workers, cfg.object_store_mb)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    return ray


def buckets_for(cfg: ScanConfig, shards: list[Shard]) -> int:
    total = sum(s.rows for s in shards)
    return cfg.buckets or max(4, math.ceil(total / cfg.shard_rows))


def _pool(ray: Any, cfg: ScanConfig) -> Any:
    return ray.data.ActorPoolStrategy(size=cfg.workers)


def pool_map(ds: Any, worker: type, ray: Any, cfg: ScanConfig, kwargs: dict[str, Any], **options: Any) -> Any:
    """`map_batches` on an actor pool whose actors are not restarted: with restarts on, Ray's C++ core
    prints an ERROR line on every run (an actor whose constructor arguments live in the object store
    may fail to restart), and a clean run prints no errors. A worker that dies fails the scan instead,
    and `--resume` redoes only the unfinished shards, which is what a restart would have done. Ray Data
    documents `max_restarts=0` for this; it warns that such keywords move elsewhere in Ray 2.64 (the
    scan extra stays below it)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*ray_remote_args.*deprecated")
        return ds.map_batches(worker, batch_size=1, compute=_pool(ray, cfg), num_cpus=1, fn_constructor_kwargs=kwargs,
                              max_restarts=0, **options)


def _items(ray: Any, items: list[dict[str, Any]]) -> Any:
    return ray.data.from_items(items, override_num_blocks=max(1, len(items)))


def _run_stage(ray: Any, cfg: ScanConfig, label: str, items: list[dict[str, Any]], total: int,
               worker: type, kwargs: dict[str, Any], err: IO[str]) -> float:
    """Run one stage over its pending items; returns its wall time. Results stream back as each item
    finishes, which drives the progress line."""
    start = time.monotonic()
    progress = Progress(label, total, err, enabled=cfg.progress)
    if items:
        ds = pool_map(_items(ray, items), worker, ray, cfg, kwargs)
        for row in ds.iter_rows():
            progress.update(int(row["rows"]))
    progress.close()
    return time.monotonic() - start


def run_scan(cfg: ScanConfig, err: IO[str] | None = None) -> dict[str, Any]:
    """The `childguard scan` command: returns the summary it wrote to OUT/summary.json."""
    from .summary import write_reports

    err = err or sys.stderr
    started = time.monotonic()
    shards = plan(cfg.inputs, cfg.shard_rows)
    out = OutputDir(cfg)
    buckets = buckets_for(cfg, shards) if cfg.conversation_mode else 0
    out.prepare(shards, buckets)
    ray = connect(cfg)
    kw = {"cfg": config_to_dict(cfg)}
    timings: dict[str, float] = {}
    skipped = 0
    if cfg.conversation_mode:
        todo = [s for s in shards if not out.is_done(f"r{s.index:05d}")]
        skipped += len(shards) - len(todo)
        timings["route_s"] = _run_stage(ray, cfg, "routing ", [{"shard": json.dumps(s.to_dict())} for s in todo],
                                        sum(s.rows for s in todo), Partitioner, {**kw, "buckets": buckets}, err)
        pending = [b for b in range(buckets) if not out.is_done(f"c{b:05d}")]
        skipped += buckets - len(pending)
        routed = sum(st.get("routed", 0) for st in out.done_stats("r"))
        done_rows = sum(st["rows"] + st["bad"] for st in out.done_stats("c"))
        timings["decide_s"] = _run_stage(ray, cfg, "deciding", [{"bucket": b} for b in pending],
                                         max(0, routed - done_rows), ConversationBucketWriter, kw, err)
    else:
        todo = [s for s in shards if not out.is_done(f"m{s.index:05d}")]
        skipped += len(shards) - len(todo)
        timings["decide_s"] = _run_stage(ray, cfg, "scanning", [{"shard": json.dumps(s.to_dict())} for s in todo],
                                         sum(s.rows for s in todo), MessageShardWriter, kw, err)
    out.finish()
    timings["total_s"] = time.monotonic() - started
    return write_reports(cfg, out, shards, skipped, timings, err)


def scan(inputs: str | list[str] | tuple[str, ...], *, conversation_field: str | None = None,
         workers: int = 2, ray_address: str | None = None, shard_rows: int = 10_000,
         work_dir: str | None = None, **options: Any) -> Any:
    """A Ray Dataset of decisions (one row per input row; bad rows carry `error`) for teams that compose
    their own pipelines: filter, join, write wherever Ray Data writes. Options are the fields of
    `ScanConfig` (age, age_field, text_field, keep_text, ...).

    Message mode is lazy. Conversation mode first routes every message by a stable hash of its
    conversation into `work_dir` (a new temporary folder by default; it holds message text, so delete
    it when done), the same on-disk shuffle `childguard scan` uses, then returns a lazy Dataset whose
    blocks are whole conversations: a general-purpose groupby shuffle was slower and stalled on small
    machines."""
    import tempfile

    paths = (inputs,) if isinstance(inputs, str) else tuple(inputs)
    out = work_dir or (tempfile.mkdtemp(prefix="childguard-scan-") if conversation_field else "unused")
    cfg = ScanConfig(inputs=paths, out=out, conversation_field=conversation_field, workers=workers,
                     ray_address=ray_address, shard_rows=shard_rows, progress=False, **options)
    ray = connect(cfg)
    shards = plan(cfg.inputs, cfg.shard_rows)
    kw = config_to_dict(cfg)
    ds = _items(ray, [{"shard": json.dumps(s.to_dict())} for s in shards])
    if not cfg.conversation_mode:
        return pool_map(ds, MessageDecider, ray, cfg, {"cfg": kw}, batch_format="pyarrow")
    buckets = buckets_for(cfg, shards)
    _run_stage(ray, cfg, "routing ", [{"shard": json.dumps(s.to_dict())} for s in shards], 0, Partitioner,
               {"cfg": kw, "buckets": buckets, "keep_bad": True}, sys.stderr)
    decided = pool_map(_items(ray, [{"bucket": b} for b in range(buckets)]), ConversationDecider, ray, cfg,
                       {"cfg": kw}, batch_format="pyarrow")
    bad_files = sorted((OutputDir(cfg).work / "parts" / "bad").glob("*.parquet"))
    if not bad_files:
        return decided
    import pyarrow as pa
    import pyarrow.parquet as pq

    full = schema(cfg).append(pa.field("error", pa.string()))
    bad = pa.Table.from_pylist([r for f in bad_files for r in pq.read_table(f).to_pylist()], schema=full)
    return decided.union(ray.data.from_arrow(bad))
