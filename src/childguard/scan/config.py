"""What one scan reads, how it decides and where it writes: one frozen object, so the plan written for
`--resume` can be compared with the one asked for and a changed setting is refused instead of mixing
two scans in one output folder."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ..agebands import AgeBand
from ..errors import InvalidInputError
from ..inputs import parse_age, parse_role


@dataclass(frozen=True, slots=True)
class ScanConfig:
    inputs: tuple[str, ...]
    out: str = "scan-out"
    age: str | None = None
    age_field: str | None = None
    text_field: str = "text"
    id_field: str = "id"
    role: str = "child"
    role_field: str = "role"
    lang_field: str = "lang"
    country_field: str = "country"
    conversation_field: str | None = None
    sender_field: str = "sender"
    child_sender: tuple[str, ...] = ()
    time_field: str = "time"
    keep_text: bool = False
    workers: int = 2
    batch_size: int = 256
    shard_rows: int = 10_000
    buckets: int | None = None
    ray_address: str | None = None
    resume: bool = False
    progress: bool = True
    object_store_mb: int = 256

    def __post_init__(self) -> None:
        if not self.inputs:
            raise InvalidInputError("give at least one INPUT file or folder to scan")
        if self.age is not None and self.age_field is not None:
            raise InvalidInputError("give --age (one age for every row) or --age-field (per row), not both")
        if self.age is not None:
            parse_age(self.age, AgeBand.ADULT)  # --age 200 is refused now, not once per row
        parse_role(self.role)
        if self.child_sender and self.conversation_field is None:
            raise InvalidInputError("--child-sender names the child in a conversation log: add "
                                    "--conversation-field too")
        for name in ("workers", "batch_size", "shard_rows"):
            if getattr(self, name) < 1:
                raise InvalidInputError(f"--{name.replace('_', '-')} must be at least 1")
        if self.buckets is not None and self.buckets < 1:
            raise InvalidInputError("--buckets must be at least 1")

    @property
    def conversation_mode(self) -> bool:
        return self.conversation_field is not None

    @property
    def out_dir(self) -> Path:
        return Path(self.out)

    def fingerprint(self) -> str:
        """Hash of everything that changes which rows go to which shard or what a row's decision is;
        workers, batch size, the cluster address and progress output do not, so a resume may change them."""
        keep = {k: v for k, v in dataclasses.asdict(self).items()
                if k not in {"workers", "batch_size", "ray_address", "resume", "progress", "object_store_mb", "out"}}
        return hashlib.sha256(json.dumps(keep, sort_keys=True, default=str).encode()).hexdigest()[:16]
