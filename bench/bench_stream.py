"""Cost of checking a streamed answer (issue 18 item 5): the gateway's windowed checks (stream_window.py)
against the old way (the whole answer re-checked every ~40 new characters), with the real guard, for
answers of growing length. Linear means: twice the answer, about twice the time.

    python bench/bench_stream.py [--sizes 10000 20000 40000 80000] [--old-up-to 10000]
"""

from __future__ import annotations

import argparse
import json
import time

from childguard import Guard
from childguard.service.stream_window import StreamWindow

SENTENCE = "Plants use sunlight, water and air to make their own food, which is called photosynthesis. "
DELTA = 20  # characters per upstream chunk
HOLD = 120


def answer(n: int) -> str:
    return (SENTENCE * (n // len(SENTENCE) + 1))[:n]


def windowed(guard: Guard, text: str) -> tuple[float, int]:
    window, checks, start = StreamWindow(HOLD, carry=guard.settings.window_chars), 0, time.perf_counter()
    for i in range(0, len(text), DELTA):
        window.add(text[i:i + DELTA])
        while window.ready():
            guard.check(window.window(), age=12, role="ai_output")
            window.release()
            checks += 1
    guard.check(window.window(final=True), age=12, role="ai_output")
    return time.perf_counter() - start, checks + 1


def whole(guard: Guard, text: str) -> tuple[float, int]:
    released, checks, start = 0, 0, time.perf_counter()
    for end in range(DELTA, len(text) + DELTA, DELTA):
        if end - released > HOLD + 40:
            guard.check(text[:end], age=12, role="ai_output")
            released, checks = end - HOLD, checks + 1
    guard.check(text, age=12, role="ai_output")
    return time.perf_counter() - start, checks + 1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 20_000, 40_000, 80_000])
    parser.add_argument("--old-up-to", type=int, default=10_000, help="largest size the old way is run for")
    args = parser.parse_args()
    guard = Guard()
    guard.warm_up()
    rows = []
    for n in args.sizes:
        text = answer(n)
        new_s, new_checks = windowed(guard, text)
        row = {"chars": n, "windowed_s": round(new_s, 3), "windowed_checks": new_checks}
        if n <= args.old_up_to:
            old_s, old_checks = whole(guard, text)
            row |= {"whole_s": round(old_s, 3), "whole_checks": old_checks}
        rows.append(row)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
