"""Scan at scale: decisions for whole chat logs and corpora on Ray Data (the `scan` extra).

`scan(...)` returns a lazy Ray Dataset of decisions; `run_scan(ScanConfig(...))` is the `childguard scan`
command (Parquet shards, summary.json, report.html, resumable). Ray is imported only when a scan runs,
so `import childguard` stays light for the per-message API."""

from .config import ScanConfig
from .runtime import run_scan, scan

__all__ = ["ScanConfig", "run_scan", "scan"]
