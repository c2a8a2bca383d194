"""Rate limits cannot be dodged with a made-up Bearer token per request: unknown tokens count as the
client's address, with and without CHILDGUARD_API_KEYS, on the APIs, the children's report API and
the console sign-in."""

from __future__ import annotations

import secrets

import httpx
import pytest

from childguard import Settings
from tests.test_service import _serve

BURST = 10


def _random_token() -> dict[str, str]:
    return {"Authorization": f"Bearer {secrets.token_urlsafe(16)}"}


@pytest.mark.parametrize("keys", [[], ["the-real-key"]])
def test_sixty_random_tokens_are_limited_like_one(keys: list[str]) -> None:
    for url in _serve(Settings(rate_limit_per_minute=1, rate_limit_burst=BURST, api_keys=keys)):
        with httpx.Client(base_url=url) as c:
            reports = [c.post("/v1/reports", json={"kind": "bullying", "message": "they are mean to me"},
                              headers=_random_token()).status_code for _ in range(30)]
            logins = [c.post("/console/login", data={"username": "x", "password": "y"},
                             headers=_random_token()).status_code for _ in range(30)]
            codes = reports + logins
            assert codes.count(429) == 60 - BURST, codes
            assert all(code != 429 for code in codes[:BURST])
            limited = c.post("/v1/reports", json={"kind": "bullying"}, headers=_random_token())
            assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
            if keys:  # the verified key has its own bucket
                ok = c.post("/v1/moderations", json={"input": "hi"}, headers={"Authorization": "Bearer the-real-key"})
                assert ok.status_code == 200
