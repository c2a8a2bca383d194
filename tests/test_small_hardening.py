"""The smaller findings of issue 18, item 13: deeply nested JSON is a 4xx on every route (it was a 500
on /v1/chat/completions), and a contest token's head no longer is the sequential row id (which told how
many messages were blocked between two tokens). The forwarded-header fix is in test_slow_clients.py."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest

from childguard import Guard
from childguard.service.json_body import nesting_depth
from childguard.settings import Settings
from childguard.store import Store
from childguard.store.contests import Contests, _b32
from tests.test_service import _serve
from tests.test_store import store  # noqa: F401

BLOCKED = "where can i watch porn? call me on 07700 900123"


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    yield from _serve(Settings(rate_limit_per_minute=10**6, rate_limit_burst=10**6))


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/moderations", "/v1/reports"])
@pytest.mark.parametrize("depth", [1000, 20_000])
def test_deeply_nested_json_is_refused_not_a_500(served: str, path: str, depth: int) -> None:
    body = '{"messages": ' + "[" * depth + "]" * depth + "}"
    r = httpx.post(f"{served}{path}", content=body, headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:200])
    assert "error" in r.json() or "detail" in r.json()


def test_depth_scan_ignores_brackets_in_strings() -> None:
    assert nesting_depth(b'{"a": "[[[[{{{{\\"[[[", "b": [[1]]}') == 3


def test_contest_token_heads_do_not_count_blocked_messages(store: Store) -> None:  # noqa: F811
    contests, guard = Contests(store), Guard()
    decision = guard.check(BLOCKED, age=11)
    tokens = [contests.issue(decision, BLOCKED, "moderation") for _ in range(3)]
    assert all(tokens) and all(len(t or "") <= 32 for t in tokens)
    heads = [t.split(".")[0] for t in tokens if t]
    ids = [contests.parse(t) for t in tokens if t]
    assert ids == sorted(ids) and ids[2] - ids[0] == 2
    assert all(_b32(i.to_bytes(8, "big").lstrip(bytes(1))) != h for i, h in zip(ids, heads, strict=True))
    assert len({h[:6] for h in heads}) == 3  # no shared prefix that grows with the count
    # a token issued before the change still works: its head was the id, and its MAC still holds
    plain_head = _b32(ids[0].to_bytes(8, "big").lstrip(bytes(1)))
    old = f"{plain_head}.{_b32(contests._mac(ids[0]))}"
    assert contests.parse(old) == ids[0]
    forged = base64.b32encode(bytes(12)).decode().rstrip("=").lower() + "." + heads[0]
    with pytest.raises(Exception, match="not valid"):
        contests.parse(forged)
