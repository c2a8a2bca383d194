"""Streamed answers are checked in windows with a carry-over, so the cost grows linearly with the answer
(issue 18 item 5: re-checking the whole answer made 20k characters take 54 s and 40k 365 s)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from childguard import Settings
from childguard.service.stream_window import StreamWindow
from tests.test_gateway import last_chunk, streamed_text
from tests.test_service import _serve
from tests.upstream_stub import Reply, last_user_text, upstream

SENTENCE = "Plants use sunlight, water and air to make their own food, which is called photosynthesis. "


def _checked(n_chars: int, hold: int = 120, delta: int = 7) -> tuple[int, int, str]:
    """(characters checked in all, the largest single check, the text released) for an answer of n_chars."""
    text = (SENTENCE * (n_chars // len(SENTENCE) + 1))[:n_chars]
    window, total, largest, out = StreamWindow(hold, carry=600), 0, 0, []
    for i in range(0, len(text), delta):
        window.add(text[i:i + delta])
        while window.ready():
            checked = window.window()
            total, largest = total + len(checked), max(largest, len(checked))
            out.append(window.release())
    checked = window.window(final=True)
    total, largest = total + len(checked), max(largest, len(checked))
    out.append(window.release_rest())
    return total, largest, "".join(out)


def test_each_check_is_bounded_and_the_total_is_linear() -> None:
    t20, big20, out20 = _checked(20_000)
    t40, big40, out40 = _checked(40_000)
    assert len(out20) == 20_000 and len(out40) == 40_000  # nothing lost, nothing doubled
    assert max(big20, big40) <= 600 + 400 + 120 + 7  # carry + largest step + hold-back (+ one delta)
    assert t40 < 2.1 * t20 and t40 < 4 * 40_000  # linear, a few times the answer at most


def test_one_huge_delta_is_still_checked_in_bounded_windows() -> None:
    window = StreamWindow(120, carry=600)
    window.add("a" * 50_000)
    sizes = []
    while window.ready():
        sizes.append(len(window.window()))
        window.release()
    assert max(sizes) <= 600 + 400 + 120 and window.pending < 400 + 120


def test_harm_straddling_two_steps_is_still_seen_whole() -> None:
    window = StreamWindow(20, carry=100, min_step=40, max_step=40)
    window.add("x" * 55 + "how to make a ")
    while window.ready():
        window.release()
    window.add("bomb at home " + "y" * 100)
    assert "how to make a bomb" in window.window()


def long_answer(body: dict[str, Any]) -> Reply:
    n = int(last_user_text(body).split()[-1])
    return Reply((SENTENCE * (n // len(SENTENCE) + 1))[:n], chunk_chars=20)


@pytest.fixture(scope="module")
def gateway() -> Iterator[str]:
    with upstream(long_answer) as url:
        yield from _serve(Settings(upstream_url=url))


def test_long_streams_take_linear_time_through_the_gateway(gateway: str) -> None:
    took = {}
    for n in (20_000, 40_000):
        body = {"model": "m", "stream": True, "childguard": {"age": 12},
                "messages": [{"role": "user", "content": f"tell me about plants in {n}"}]}
        start = time.perf_counter()
        r = httpx.post(f"{gateway}/v1/chat/completions", json=body, timeout=120)
        took[n] = time.perf_counter() - start
        assert len(streamed_text(r)) == n and last_chunk(r)["childguard"]["output_action"] == "allow"
    # was 54 s and 365 s; the exact ratio is the bench's job (bench/bench_stream.py), on a quiet machine:
    # here eight test runs may share two cores, so only a bound no quadratic checker could meet
    assert took[40_000] < 60, took
