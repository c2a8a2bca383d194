"""Back-off for failed sign-ins (4i: the console guards children's words, so guessing must be slow).

After `free` failures each further one doubles the wait, from `first_s` up to `cap_s`. Unlike a fixed
15-minute lock, a handful of anonymous requests only costs the real moderator a short wait, while a
guesser still gets no more than a few tries an hour. The per-address throttle lives in the process (like
the rate limits): it slows one address spraying many names; the per-account count is in the database."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    free: int = 5
    first_s: float = 30.0
    cap_s: float = 900.0

    def delay(self, failures: int) -> float:
        """Seconds to wait after the `failures`-th failure in a row."""
        if failures < self.free:
            return 0.0
        return min(self.cap_s, self.first_s * 2.0 ** min(failures - self.free, 40))


class AddressThrottle:
    """Failures per client address, checked and counted under one lock (so parallel guesses cannot all
    pass the check before any is counted). A failure older than `cap_s` is forgotten."""

    def __init__(self, backoff: Backoff, max_addresses: int = 100_000) -> None:
        self.backoff = backoff
        self.max_addresses = max_addresses
        self._seen: OrderedDict[str, tuple[int, float, float]] = OrderedDict()  # failures, blocked until, last
        self._lock = threading.Lock()

    def claim(self, address: str, now: float | None = None) -> bool:
        """Count an attempt as a failure in advance; False while the address must wait. A success
        calls `succeeded`, which takes the count back."""
        now = time.monotonic() if now is None else now
        with self._lock:
            failures, until, last = self._seen.get(address, (0, 0.0, now))
            if now < until:
                return False
            if now - last > self.backoff.cap_s:
                failures = 0
            failures += 1
            self._seen[address] = (failures, now + self.backoff.delay(failures), now)
            self._seen.move_to_end(address)
            while len(self._seen) > self.max_addresses:
                self._seen.popitem(last=False)
            return True

    def clean(self, address: str, now: float | None = None) -> bool:
        """No failure from this address within `cap_s`: it has not been guessing."""
        now = time.monotonic() if now is None else now
        with self._lock:
            failures, _, last = self._seen.get(address, (0, 0.0, now))
            return failures == 0 or now - last > self.backoff.cap_s

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._seen.pop(address, None)
