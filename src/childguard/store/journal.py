"""A small append-only journal of decision counts not yet in the database (3c: the transparency report
should count what the service really decided, also when a worker is killed between two flushes).

Each count is one line appended with a single write(2), so it is in the kernel's page cache the moment
the decision is made and survives the process being killed (not a power cut: no fsync, on purpose, to
keep a decision under a millisecond). Each worker owns one file, held with an exclusive flock; a file
whose lock nobody holds belongs to a dead worker and is replayed by the next one that starts. After a
flush the flushed file is deleted: a worker killed in the instant between the database commit and that
delete counts its last batch twice, the only way a count can be off."""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from collections import Counter
from pathlib import Path

Cell = tuple[str, str, str, str, str, str]  # day, source, category, action, age_band, lang


def _open_locked(path: Path, create: bool) -> int | None:
    flags = os.O_RDWR | os.O_APPEND | (os.O_CREAT if create else 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:  # a live worker's journal
        os.close(fd)
        return None
    return fd


def _read(fd: int) -> Counter[Cell]:
    counts: Counter[Cell] = Counter()
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    for line in b"".join(chunks).split(b"\n"):
        try:
            cell = json.loads(line)
        except ValueError:  # empty, or cut off by the kill
            continue
        if isinstance(cell, list) and len(cell) == 6 and all(isinstance(x, str) for x in cell):
            counts[(cell[0], cell[1], cell[2], cell[3], cell[4], cell[5])] += 1
    return counts


class CountJournal:
    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.directory = directory
        self._name = f"counts-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._seq = 0
        self._path, self._fd = self._new_file()
        self._done: list[tuple[Path, int]] = []  # flushed-from files, deleted once in the database

    def _new_file(self) -> tuple[Path, int]:
        self._seq += 1
        path = self.directory / f"{self._name}-{self._seq}.journal"
        fd = _open_locked(path, create=True)
        if fd is None:
            raise OSError(f"cannot lock the count journal {path}")
        return path, fd

    def recover(self) -> Counter[Cell]:
        """Counts left by workers that died before flushing; their files are deleted by `committed`."""
        counts: Counter[Cell] = Counter()
        for path in sorted(self.directory.glob("counts-*.journal")):
            if path == self._path:
                continue
            fd = _open_locked(path, create=False)
            if fd is None:
                continue
            found = _read(fd)
            if found:
                counts.update(found)
                self._done.append((path, fd))
            else:  # a worker that stopped cleanly leaves an empty file
                path.unlink(missing_ok=True)
                os.close(fd)
        return counts

    def append(self, cell: Cell) -> None:
        os.write(self._fd, (json.dumps(cell, ensure_ascii=False, separators=(",", ":")) + "\n").encode())

    def rotate(self) -> None:
        """Start a new file for new counts; the current one is deleted once its counts are committed.
        Call under the counter's lock, with the batch taken at the same moment."""
        self._done.append((self._path, self._fd))
        self._path, self._fd = self._new_file()

    def committed(self) -> None:
        for path, fd in self._done:
            path.unlink(missing_ok=True)
            os.close(fd)
        self._done = []
