"""The local spool: where escalations and children's reports wait while the database is unreachable,
so that none is lost (4i, 3d).

One append-only file in the data directory. Each line is one `CaseRecord`, sealed with AES-GCM under
the store key (the spool holds the same redacted excerpt a case would, never more) and fsynced before
the API says "spooled". Several service processes on one host share the file: an append holds an
exclusive `flock` on it, and a replay first renames it aside under that lock, so an append lands
either in the file being replayed or in a fresh one, never in between. Replay goes line by line, in
the order the lines were written, and writes each record with its idempotency key: a replay cut short
(the database went away again) is simply run again from the start without duplicating a case. A line
that cannot be read (a torn write at a crash, a different key) is moved to `<spool>.rejected` for an
operator, never dropped."""

from __future__ import annotations

import base64
import contextlib
import fcntl
import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

from cryptography.exceptions import InvalidTag
from pydantic import ValidationError

from .crypto import Box
from .records import CaseRecord

log = logging.getLogger("childguard.spool")
CONTEXT = b"childguard/spool"
MAX_ROUNDS = 20


class SpoolStats(NamedTuple):
    cases: int
    bytes: int
    oldest_at: float | None  # POSIX time the oldest waiting case was made


class Spool:
    def __init__(self, path: Path, box: Box) -> None:
        self.path = Path(path)
        self.replaying = self.path.with_name(self.path.name + ".replaying")
        self.rejected = self.path.with_name(self.path.name + ".rejected")
        self._box = box
        self._replay_lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def pending(self) -> bool:
        """Whether anything waits to be replayed (by this process or another one on the host)."""
        for path in (self.replaying, self.path):
            try:
                if path.stat().st_size > 0:
                    return True
            except FileNotFoundError:  # none, or a replay just renamed or removed it
                continue
        return False

    def stats(self) -> SpoolStats:
        """What waits, for monitoring: read-only (an unreadable line is skipped here, and left for the
        replay to move aside), and never more of the files than their first readable line is decrypted."""
        cases, size, oldest = 0, 0, None
        for path in (self.replaying, self.path):  # the replaying file holds the older cases
            try:
                raw = path.read_bytes()
            except FileNotFoundError:
                continue
            size += len(raw)
            lines = [line for line in raw.splitlines() if line.strip()]
            cases += len(lines)
            for line in lines if oldest is None else ():
                with contextlib.suppress(ValueError, InvalidTag, ValidationError):
                    oldest = CaseRecord.model_validate_json(
                        self._box.open(base64.b64decode(line, validate=True), CONTEXT)).created_at.timestamp()
                    break
        return SpoolStats(cases, size, oldest)

    def append(self, record: CaseRecord) -> None:
        """Seal, append and fsync one record; when this returns, the record survives a crash."""
        line = base64.b64encode(self._box.seal(record.model_dump_json(), CONTEXT)) + b"\n"
        with self._locked_active() as fd:
            os.write(fd, line)
            os.fsync(fd)

    @contextlib.contextmanager
    def _locked_active(self) -> Iterator[int]:
        """The active spool file, opened for append and exclusively locked. If a replay renamed it aside
        while this process waited for the lock, open the new one instead."""
        while True:
            created = not self.path.exists()
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                if os.fstat(fd).st_ino == _inode(self.path):
                    if created:
                        _fsync_dir(self.path.parent)
                    yield fd
                    return
            finally:
                os.close(fd)  # closing releases the lock

    def replay(self, save: Callable[[CaseRecord], object]) -> int:
        """Write every spooled record with `save`, oldest first; returns how many were written. Stops
        (and keeps the rest) at the first record `save` raises for, so a store that fails again
        loses nothing. Only one replay runs per host at a time."""
        with self._replay_lock, self._host_lock() as got:
            if not got:
                return 0
            done = 0
            # what a previous replay left, then what was appended since, until nothing is (bounded: the
            # job comes back, and a busy service must not keep one replay going for ever)
            for _ in range(MAX_ROUNDS):
                if not self.replaying.exists():
                    if not self.path.exists():
                        break
                    with self._locked_active():
                        os.replace(self.path, self.replaying)
                        _fsync_dir(self.path.parent)
                for raw in self.replaying.read_bytes().splitlines():
                    record = self._open(raw)
                    if record is not None:
                        save(record)
                        done += 1
                self.replaying.unlink()
                _fsync_dir(self.path.parent)
            return done

    @contextlib.contextmanager
    def _host_lock(self) -> Iterator[bool]:
        fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False  # another process on this host is replaying
                return
            yield True
        finally:
            os.close(fd)

    def _open(self, raw: bytes) -> CaseRecord | None:
        if not raw.strip():
            return None
        try:
            return CaseRecord.model_validate_json(self._box.open(base64.b64decode(raw, validate=True), CONTEXT))
        except (ValueError, InvalidTag, ValidationError) as exc:
            log.error("unreadable spool line moved to %s (%s); an operator must look at it", self.rejected,
                      type(exc).__name__)
            fd = os.open(self.rejected, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, raw + b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)
            return None


def _inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except FileNotFoundError:
        return None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
