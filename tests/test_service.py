"""The HTTP service over real HTTP (uvicorn on loopback): moderation API, health, limits, errors."""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from childguard import Settings
from childguard.service import create_app
from childguard.store import Store


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    yield from _serve(Settings(rate_limit_per_minute=100_000, rate_limit_burst=100_000, max_body_bytes=300_000))


def _serve(cfg: Settings, store: Store | None = None) -> Iterator[str]:
    data = Path(tempfile.mkdtemp())
    cfg = cfg.model_copy(update={"database_url": f"sqlite:///{data}/cg.db", "key_file": data / "key"})
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(cfg, store=store), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_health_readiness_and_openapi(base_url: str) -> None:
    assert httpx.get(f"{base_url}/healthz").json()["status"] == "ok"
    ready = httpx.get(f"{base_url}/readyz")
    assert ready.status_code == 200 and "classifier" in ready.json()["detectors"]
    spec = httpx.get(f"{base_url}/openapi.json").json()
    assert "/v1/moderations" in spec["paths"]


def test_moderation_is_openai_compatible_with_the_child_decision(base_url: str) -> None:
    r = httpx.post(f"{base_url}/v1/moderations", json={
        "input": ["i want to kill myself", "where do babies come from?"], "age": 12, "country": "GB"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"].startswith("modr-") and len(body["results"]) == 2
    harm, benign = body["results"]
    assert harm["flagged"] is True and harm["categories"]["self-harm/intent"] is True
    assert harm["category_scores"]["self-harm"] > 0.5
    assert harm["childguard"]["action"] == "escalate"
    assert any(res["name"] == "Childline" for res in harm["childguard"]["resources"])
    assert benign["flagged"] is False and benign["childguard"]["action"] in ("allow", "adapt")
    assert set(harm["categories"]) >= {"harassment", "hate", "self-harm", "sexual", "sexual/minors", "violence"}


def test_single_string_input_like_openai_clients_send(base_url: str) -> None:
    r = httpx.post(f"{base_url}/v1/moderations", json={"input": "what's the capital of france?", "model": "x"})
    assert r.status_code == 200 and r.json()["model"] == "x"
    assert r.json()["results"][0]["flagged"] is False


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"input": []}, 422, "invalid_input"),
        ({"input": 42}, 422, "invalid_input"),
        ({}, 422, "invalid_input"),
        ({"input": "hi", "age": 300}, 422, "invalid_age"),
        ({"input": "hi", "lang": "12"}, 422, "invalid_language"),
        ({"input": "hi", "role": "robot"}, 422, "invalid_role"),
        ({"input": ["x"] * 101}, 422, "invalid_input"),
        ({"input": "a" * 150_000}, 413, "text_too_long"),
    ],
)
def test_bad_requests_get_clear_errors(base_url: str, body: dict, status: int, code: str) -> None:
    r = httpx.post(f"{base_url}/v1/moderations", json=body)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code


def test_malformed_bodies(base_url: str) -> None:
    url, json_type = f"{base_url}/v1/moderations", {"content-type": "application/json"}
    bad_json = httpx.post(url, content=b"{not json", headers=json_type)
    assert bad_json.status_code == 422 and bad_json.json()["error"]["code"] == "invalid_input"
    bad_utf8 = httpx.post(url, content=b'{"input": "\xff\xfe"}', headers=json_type)
    # changed (issue 20): the 400 names the problem (was the generic bad_request "error parsing the body")
    assert bad_utf8.status_code == 400 and bad_utf8.json()["error"]["code"] == "invalid_text"
    huge = httpx.post(url, content=b"x" * 400_000, headers=json_type)
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "request_too_large"
    assert httpx.get(f"{base_url}/nope").json()["error"]["code"] == "not_found"


def test_rate_limit_per_key() -> None:
    for url in _serve(Settings(rate_limit_per_minute=60, rate_limit_burst=3, api_keys=["a", "b"])):
        key_a = {"Authorization": "Bearer a"}
        codes = [httpx.post(f"{url}/v1/moderations", json={"input": "hi"}, headers=key_a).status_code for _ in range(5)]
        assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
        limited = httpx.post(f"{url}/v1/moderations", json={"input": "hi"}, headers=key_a)
        assert int(limited.headers["retry-after"]) >= 1
        other = httpx.post(f"{url}/v1/moderations", json={"input": "hi"}, headers={"Authorization": "Bearer b"})
        assert other.status_code == 200
        assert httpx.get(f"{url}/healthz").status_code == 200  # health is never rate limited


finite = st.floats(allow_nan=False, allow_infinity=False)  # JSON cannot encode inf or nan
scalars = st.none() | st.booleans() | st.integers() | finite | st.text(max_size=50)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.fixed_dictionaries({"input": json_values}, optional={"age": json_values, "lang": json_values,
                                                                 "role": json_values, "country": json_values}))
def test_no_request_body_causes_a_server_error(base_url: str, body: dict) -> None:
    r = httpx.post(f"{base_url}/v1/moderations", json=body)
    assert r.status_code in (200, 413, 422), (body, r.text)
