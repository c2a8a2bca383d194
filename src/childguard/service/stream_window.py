"""Which part of a streamed answer to check next, so a long answer costs linear time (issue 18 item 5).

Re-checking the whole answer at every step made a 20,000-character answer take 54 s and a 40,000
one 365 s. Here each check sees at most `carry + step + hold` characters: the new text, and the
last `carry` characters already released before it, so a harmful sentence that straddles two steps
is still read whole. The detectors score long texts in windows of `window_chars` anyway (the max over
windows), so a carry-over of that size sees what a whole-text check would have seen near the new
text. The last `hold` characters stay unreleased until the next check, as before. Steps start small
(the child sees the start of the answer soon) and grow with the answer up to `max_step`, so a long
answer is checked about (carry + max_step + hold) / max_step times over, whatever its length."""

from __future__ import annotations

from collections.abc import Callable


class StreamWindow:
    def __init__(self, hold: int, carry: int = 600, min_step: int = 40, max_step: int = 400) -> None:
        self.hold, self.carry, self.min_step, self.max_step = hold, carry, max(1, min_step), max(1, max_step)
        self._released_tail = ""  # the last `carry` released characters
        self._pending = ""  # received, not yet released
        self.released = 0  # characters released so far
        self.received = 0

    def add(self, delta: str) -> None:
        self._pending += delta
        self.received += len(delta)

    @property
    def step(self) -> int:
        return min(self.max_step, max(self.min_step, self.released // 2))

    def ready(self) -> bool:
        """Enough new text for a check that releases a full step."""
        return len(self._pending) >= self.hold + self.step

    def window(self, final: bool = False) -> str:
        """The text of the next check: the carry-over and at most one step (plus the hold-back) of new
        text, or, at the end, everything still pending."""
        new = self._pending if final else self._pending[: self.step + self.hold]
        return self._released_tail + new

    def release(self, cut: Callable[[str, int], int] | None = None) -> str:
        """Release the step just checked (all pending text but the hold-back, at most one step). `cut` may
        move the release point back (so a placeholder is never split)."""
        upto = min(self.step, len(self._pending) - self.hold)
        if cut is not None:
            upto = cut(self._pending, upto)
        return self._take(max(0, upto))

    def release_rest(self) -> str:
        return self._take(len(self._pending))

    def _take(self, upto: int) -> str:
        out, self._pending = self._pending[:upto], self._pending[upto:]
        self._released_tail = (self._released_tail + out)[-self.carry:] if self.carry else ""
        self.released += len(out)
        return out

    @property
    def pending(self) -> int:
        return len(self._pending)
