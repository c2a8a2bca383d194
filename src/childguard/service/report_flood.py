"""Flood control for children's anonymous reports (3d). A report needs no account and no API key, so
one script can open thousands of cases and push a real escalation out of the moderators' sight. Two
defences, neither of which turns away a child's first report: a per-address token bucket (a burst, then
a few an hour; the refusal still carries the helplines), and folding of identical reports into one
queue item (reporting.fold_text, Store.queue)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from ..errors import ReportLimitError


class ReportAdmission:
    """Token bucket per client address, in-process (each worker enforces its own share). A new address
    starts with a full bucket of `burst` >= 1, so its first report always goes through."""

    def __init__(self, burst: int, per_hour: float, max_addresses: int = 100_000) -> None:
        self.burst, self.rate, self.max_addresses = float(max(1, burst)), per_hour / 3600.0, max_addresses
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def admit(self, address: str) -> None:
        """Take one report from the address's bucket; ReportLimitError (with the wait) when it is empty."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(address, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            ok = tokens >= 1
            self._buckets[address] = (tokens - 1 if ok else tokens, now)
            self._buckets.move_to_end(address)
            while len(self._buckets) > self.max_addresses:
                self._buckets.popitem(last=False)
        if not ok:
            wait = (1 - tokens) / self.rate if self.rate else 3600.0
            raise ReportLimitError(wait)
