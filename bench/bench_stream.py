"""Cost of checking a streamed answer (issue 18 item 5): the gateway's windowed checks (stream_window.py)
against the old way (the whole answer re-checked every ~40 new characters), with the real guard, for
answers of growing length. Linear means: twice the answer, about twice the characters checked and the
time. Times are the best of `--repeat` runs (a shared machine adds noise, never speed); the characters
checked are exact.

    python bench/bench_stream.py [--sizes 10000 20000 40000 80000] [--old-up-to 10000]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

from childguard import Guard
from childguard.service.stream_window import StreamWindow

SENTENCE = "Plants use sunlight, water and air to make their own food, which is called photosynthesis. "
DELTA = 20  # characters per upstream chunk
HOLD = 120


def answer(n: int) -> str:
    return (SENTENCE * (n // len(SENTENCE) + 1))[:n]


def windowed(guard: Guard, text: str) -> tuple[float, int]:
    """(seconds, characters checked) the gateway's way."""
    window, checked, start = StreamWindow(HOLD, carry=guard.settings.window_chars), 0, time.perf_counter()
    for i in range(0, len(text), DELTA):
        window.add(text[i:i + DELTA])
        while window.ready():
            checked += len(piece := window.window())
            guard.check(piece, age=12, role="ai_output")
            window.release()
    checked += len(piece := window.window(final=True))
    guard.check(piece, age=12, role="ai_output")
    return time.perf_counter() - start, checked


def whole(guard: Guard, text: str) -> tuple[float, int]:
    """(seconds, characters checked) the old way."""
    released, checked, start = 0, 0, time.perf_counter()
    for end in range(DELTA, len(text) + DELTA, DELTA):
        if end - released > HOLD + 40:
            guard.check(text[:end], age=12, role="ai_output")
            released, checked = end - HOLD, checked + end
    guard.check(text, age=12, role="ai_output")
    return time.perf_counter() - start, checked + len(text)


def best(fn: Callable[[Guard, str], tuple[float, int]], guard: Guard, text: str, repeat: int) -> tuple[float, int]:
    runs = [fn(guard, text) for _ in range(repeat)]
    return min(r[0] for r in runs), runs[0][1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 20_000, 40_000, 80_000])
    parser.add_argument("--old-up-to", type=int, default=10_000, help="largest size the old way is run for")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    guard = Guard()
    guard.warm_up()
    for n in args.sizes:
        text = answer(n)
        new_s, new_chars = best(windowed, guard, text, args.repeat)
        row = {"chars": n, "windowed_s": round(new_s, 3), "windowed_checked_chars": new_chars}
        if n <= args.old_up_to:
            old_s, old_chars = best(whole, guard, text, 1)
            row |= {"whole_s": round(old_s, 3), "whole_checked_chars": old_chars}
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
