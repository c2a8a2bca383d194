"""Reporting, consent, transparency, conversations, API keys and the scheduled purge, over real HTTP."""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from childguard import Settings
from childguard.store import Store
from childguard.store.tables import ReviewCase
from childguard.testing import chat_server
from tests.test_conversation import GROOMING, _redis_up
from tests.test_service import _serve, json_values


def _store(tmp: Path, **extra: object) -> tuple[Settings, Store]:
    cfg = Settings(key_file=tmp / "key", database_url=f"sqlite:///{tmp}/cg.db", transparency_min_count=1, **extra)
    return cfg, Store(cfg)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, Store]]:
    cfg, store = _store(Path(tempfile.mkdtemp()))
    for url in _serve(cfg, store=store):
        yield url, store


def test_report_api_gives_a_code_helplines_and_a_status(served: tuple[str, Store]) -> None:
    url, store = served
    r = httpx.post(f"{url}/v1/reports", json={"kind": "bullying", "message": "they post mean things about me every day",
                                              "country": "KE", "lang": "sw", "age": 13})
    assert r.status_code == 201, r.text
    body = r.json()
    assert len(body["reference"]) == 14 and body["message"].startswith("Ulikuwa jasiri")
    assert any(h["country"] == "KE" for h in body["helplines"]) and "case_id" not in body
    status = httpx.get(f"{url}/v1/reports/{body['reference'].lower()}", params={"lang": "sw"}).json()
    assert status["status"] == "received" and status["message"].startswith("Tumepokea")
    queue = store.queue()
    assert any(c["source"] == "report" and "cyberbullying" in c["categories"] for c in queue)
    assert httpx.get(f"{url}/v1/reports/ZZZZ-ZZZZ-ZZZZ").status_code == 404
    bad = httpx.post(f"{url}/v1/reports", json={"kind": "other", "message": ""})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_input"
    assert httpx.post(f"{url}/v1/reports", json={"kind": "bullying", "country": "Narnia"}).status_code == 422
    form = httpx.get(f"{url}/v1/reports/form", params={"lang": "ar"}).json()
    assert form["dir"] == "rtl" and form["texts"]["send"] == "إرسال" and "KE" in form["countries"]
    assert form["country_names"]["KE"] == "كينيا"
    assert {"en", "fr", "es", "de", "ar", "pt", "sw", "hi"} <= set(form["languages"])


def test_consent_records_and_withdrawal_over_http(served: tuple[str, Store]) -> None:
    url, store = served
    profile = f"kid-{uuid.uuid4().hex[:8]}"
    r = httpx.post(f"{url}/v1/consents", json={"profile_id": profile, "method": "card_check",
                                               "guardian_contact": "dad@example.org"})
    assert r.status_code == 201 and r.json()["status"] == "granted" and "guardian_contact" not in r.json()
    assert httpx.get(f"{url}/v1/consents/{profile}").json()["scope"][0] == "chat"
    for _ in range(2):
        mod = httpx.post(f"{url}/v1/moderations", json={"input": "i want to kill myself", "age": 12,
                                                        "profile": profile})
        assert mod.json()["results"][0]["childguard"]["review_required"]
    newest = max(c["id"] for c in store.queue() if c["source"] == "moderation")
    store.decide(newest, "mo", "resolved")  # the newer of the two was reviewed
    closed_before = len(store.queue("closed"))
    w = httpx.post(f"{url}/v1/consents/{profile}/withdraw", json={"conversations": ["chat-1"]})
    assert w.status_code == 200 and w.json()["deleted"]["review_cases"] == 1
    assert w.json()["kept_for_safeguarding"]["review_cases"] == 1  # the open self-harm case waits for a human
    assert len(store.queue("closed")) == closed_before - 1
    assert httpx.get(f"{url}/v1/consents/{profile}").json()["status"] == "withdrawn"
    assert httpx.get(f"{url}/v1/consents/unknown-kid").status_code == 404
    assert httpx.post(f"{url}/v1/consents", json={"profile_id": "x", "method": "nope"}).status_code == 422


def test_transparency_counts_decisions_without_text(served: tuple[str, Store]) -> None:
    url, _ = served
    before = httpx.get(f"{url}/v1/transparency").json()["counted"]
    httpx.post(f"{url}/v1/moderations", json={"input": ["what is photosynthesis?", "i want to kill myself"], "age": 9})
    report = httpx.get(f"{url}/v1/transparency").json()
    assert report["counted"] == before + 2
    assert report["by_age_band"]["6-9"] >= 2 and "self_harm" in report["by_category"]
    assert "photosynthesis" not in str(report)
    page = httpx.get(f"{url}/transparency")
    assert page.status_code == 200 and "<svg" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]


def test_conversation_api_escalates_grooming_and_opens_a_case(served: tuple[str, Store]) -> None:
    url, store = served
    cid = uuid.uuid4().hex
    results = [httpx.post(f"{url}/v1/conversations/messages", json={
        "conversation": cid, "sender": sender, "role": role, "text": text, "age": 11}).json()
        for role, sender, text in GROOMING]
    assert any(f["kind"] == "grooming_trajectory" for r in results for f in r["findings"])
    assert any(c["source"] == "conversation" and "grooming_trajectory" in c["categories"] for c in store.queue())
    assert httpx.delete(f"{url}/v1/conversations/{cid}").status_code == 204
    bad = httpx.post(f"{url}/v1/conversations/messages", json={"conversation": "", "sender": "a", "text": "hi"})
    assert bad.status_code == 422


@pytest.mark.skipif(not _redis_up(), reason="Redis not reachable at 127.0.0.1:6379")
def test_two_service_processes_share_conversation_state_in_redis(tmp_path: Path) -> None:
    cfg, store = _store(tmp_path, conversation_store="redis", conversation_ttl_s=120)
    cid = f"svc-{uuid.uuid4().hex}"
    with _two(cfg, store) as (a, b):
        for i, (role, sender, text) in enumerate(GROOMING):
            r = httpx.post(f"{(a, b)[i % 2]}/v1/conversations/messages", json={
                "conversation": cid, "sender": sender, "role": role, "text": text, "age": 11}).json()
        assert r["turn"] == len(GROOMING)  # each service saw the other's turns
        assert any(f["kind"] == "grooming_trajectory" for f in r["findings"])
        httpx.delete(f"{a}/v1/conversations/{cid}")


class _two:
    def __init__(self, cfg: Settings, store: Store) -> None:
        self.gens = [_serve(cfg, store=store), _serve(cfg, store=store)]

    def __enter__(self) -> tuple[str, str]:
        return next(self.gens[0]), next(self.gens[1])

    def __exit__(self, *exc: object) -> None:
        for g in self.gens:
            next(g, None)


def test_api_keys_guard_the_apis_but_not_childrens_reports(tmp_path: Path) -> None:
    cfg, store = _store(tmp_path, api_keys=["k-123456"])
    for url in _serve(cfg, store=store):
        r = httpx.post(f"{url}/v1/moderations", json={"input": "hi"})
        assert r.status_code == 401 and "CHILDGUARD_API_KEYS" in r.json()["error"]["message"]
        assert httpx.post(f"{url}/v1/moderations", json={"input": "hi"},
                          headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert httpx.post(f"{url}/v1/moderations", json={"input": "hi"},
                          headers={"Authorization": "Bearer k-123456"}).status_code == 200
        assert httpx.post(f"{url}/v1/reports", json={"kind": "bullying"}).status_code == 201
        assert httpx.get(f"{url}/healthz").status_code == 200
        assert httpx.get(f"{url}/report").status_code == 200


def test_consent_can_be_required_for_chat(tmp_path: Path) -> None:
    cfg, store = _store(tmp_path, require_consent=True)
    for url in _serve(cfg, store=store):
        body = {"messages": [{"role": "user", "content": "what is photosynthesis?"}], "user": "kid-1"}
        r = httpx.post(f"{url}/v1/chat/completions", json=body)
        assert r.status_code == 403 and r.json()["error"]["code"] == "consent_required"
        httpx.post(f"{url}/v1/consents", json={"profile_id": "kid-1", "method": "signed_form", "scope": ["chat"]})
        assert httpx.post(f"{url}/v1/chat/completions", json=body).status_code == 503  # on to the (absent) model
        turn = {"conversation": "c", "sender": "a", "text": "hi", "profile": "kid-1"}
        assert httpx.post(f"{url}/v1/conversations/messages", json=turn).status_code == 403  # scope not given


def test_gateway_nudges_attachment_and_late_nights_and_keeps_the_profile_id_from_the_model(tmp_path: Path) -> None:
    seen: list[dict] = []
    with chat_server("safe", record=seen) as upstream:
        cfg, store = _store(tmp_path, upstream_url=upstream)
        for url in _serve(cfg, store=store):
            def chat(text: str, at: str | None = None, stream: bool = False, url: str = url) -> httpx.Response:
                body = {"messages": [{"role": "user", "content": text}], "user": "kid-77", "stream": stream,
                        "childguard": {"age": 10, **({"time": at} if at else {})}}
                return httpx.post(f"{url}/v1/chat/completions", json=body, timeout=30)

            r = chat("you are my only friend, i don't need anyone else").json()
            assert r["childguard"]["upstream_called"] is False and r["childguard"]["input_action"] == "redirect"
            assert "I'm an AI" in r["choices"][0]["message"]["content"]
            replies = [chat("what is photosynthesis?", f"2026-11-20T23:{10 + 5 * i}:00+00:00").json()
                       for i in range(3)]
            assert [x["childguard"]["nudge"] is not None for x in replies] == [False, False, True]
            last = replies[-1]
            assert last["childguard"]["upstream_called"] is True
            assert last["choices"][0]["message"]["content"].endswith(last["childguard"]["nudge"])
            streamed = chat("you are my only friend", stream=True)
            assert streamed.status_code == 200 and "I'm an AI" in streamed.text
    assert seen and all("user" not in b and "kid-77" not in str(b) for b in seen)


def test_scheduled_purge_deletes_old_excerpts(tmp_path: Path) -> None:
    cfg, store = _store(tmp_path, retention_days=1, purge_interval_s=0.3)
    for url in _serve(cfg, store=store):
        httpx.post(f"{url}/v1/moderations", json={"input": "i want to kill myself", "age": 12})
        case_id = store.queue()[0]["id"]
        with store.sessions.begin() as s:
            s.execute(update(ReviewCase).where(ReviewCase.id == case_id)
                      .values(created_at=datetime.now(UTC) - timedelta(days=2)))
        deadline = time.monotonic() + 10
        while store.view(case_id, "test")["excerpt"] is not None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert store.view(case_id, "test")["excerpt"] is None
        assert any(e["action"] == "excerpts_purged" for e in store.audit_log())


REPORT_FIELDS = ("kind", "message", "age", "lang", "country", "contact")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(["/v1/reports", "/v1/consents", "/v1/conversations/messages"]),
       body=st.dictionaries(st.sampled_from([*REPORT_FIELDS, "profile_id", "method", "scope", "guardian_contact",
                                             "conversation", "sender", "role", "text", "time", "profile"]),
                            json_values, max_size=6) | json_values)
def test_no_body_makes_the_oversight_apis_fail(served: tuple[str, Store], path: str, body: object) -> None:
    r = httpx.post(f"{served[0]}{path}", json=body)
    # many reports from one address are throttled (a flood), with the helplines in the answer
    allowed = (200, 201, 403, 404, 413, 422) + ((429,) if path == "/v1/reports" else ())
    assert r.status_code in allowed, (path, body, r.text)
    assert "error" in r.json() or r.status_code in (200, 201)
