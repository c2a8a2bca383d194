"""A progress line with rate and ETA on stderr: redrawn in place on a terminal, one line every few
seconds in a log (a scan of a billion messages runs for hours under nohup or a job scheduler)."""

from __future__ import annotations

import sys
import time
from typing import IO


def _clock(seconds: float) -> str:
    s = int(max(0, seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class Progress:
    def __init__(self, label: str, total: int, out: IO[str] | None = None, enabled: bool = True,
                 every_s: float = 5.0) -> None:
        self.label, self.total, self.done = label, total, 0
        self.out = out or sys.stderr
        self.enabled = enabled
        self.tty = bool(getattr(self.out, "isatty", lambda: False)())
        self.every_s = 0.2 if self.tty else every_s
        self.start = self.last = time.monotonic()
        self._shown = -1

    @property
    def rate(self) -> float:
        elapsed = time.monotonic() - self.start
        return self.done / elapsed if elapsed > 0 else 0.0

    def line(self) -> str:
        rate = self.rate
        pct = 100.0 * self.done / self.total if self.total else 100.0
        eta = _clock((self.total - self.done) / rate) if rate > 0 else "?"
        width = 24
        bar = "#" * int(width * pct / 100) + "." * (width - int(width * pct / 100))
        return (f"{self.label} [{bar}] {self.done:,}/{self.total:,} rows ({pct:.0f}%) {rate:,.0f} rows/s "
                f"ETA {eta}")

    def update(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and (now - self.last >= self.every_s or self.done >= self.total):
            self.last = now
            self._draw()

    def _draw(self) -> None:
        self._shown = self.done
        self.out.write(("\r" + self.line() + "\x1b[K") if self.tty else self.line() + "\n")
        self.out.flush()

    def close(self) -> None:
        if self.enabled:
            if self.tty:
                self.out.write("\n")
            elif self._shown != self.done:
                self._draw()
            self.out.flush()
