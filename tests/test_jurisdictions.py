"""Jurisdiction profiles: data files that cite their rules, presets the operator can override, consent by
the request's country and age, SB 243 reminders, retention, published counts, the compliance checklist
and the CRIA report."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from childguard import Guard, Settings
from childguard.agebands import AgeBand
from childguard.cli import main
from childguard.compliance import CHECKS, evaluate
from childguard.conversation import ConversationGuard, MemoryStateStore
from childguard.errors import ConfigError
from childguard.jurisdictions import apply_jurisdiction, for_country, get_jurisdiction, load_jurisdictions
from childguard.settings import get_settings
from childguard.store import Store
from childguard.testing import chat_server
from tests.test_service import _serve

BLOCKED = "where can i watch porn?"


def test_every_profile_cites_its_rules_and_names_known_checks() -> None:
    profiles = load_jurisdictions()
    assert set(profiles) == {"UK", "EU", "US", "US-CA", "AU", "default"}
    for j in profiles.values():
        assert {"require_consent", "consent_age", "retention_days", "transparency_publish"} <= set(j.rules), j.id
        assert all(len(r.cite) > 10 for r in j.rules.values()), j.id
        assert all(item.check in CHECKS for item in j.checklist), j.id
    ca = profiles["US-CA"]
    assert ca.value("consent_age") == 13  # inherited from US (COPPA)
    assert "22602" in ca.rules["ai_disclosure_every_hours"].cite and ca.value("break_reminder_hours") == 3
    assert profiles["EU"].consent_age("DE") == 16 and profiles["EU"].consent_age("DK") == 13
    assert for_country("fr", profiles["US"]).id == "EU" and for_country("ZZ", profiles["US"]).id == "US"
    with pytest.raises(ConfigError, match="unknown jurisdiction"):
        get_jurisdiction("Narnia")


def test_a_profile_presets_settings_and_explicit_settings_win() -> None:
    s, j = apply_jurisdiction(Settings(jurisdiction="us-ca"))
    assert j is not None and j.id == "US-CA"
    assert s.require_consent and s.long_session_s == 3 * 3600 and s.ai_disclosure_every_s == 3 * 3600
    assert "disclosure" in s.conversation_analyzers and s.retention_days == 30
    own, _ = apply_jurisdiction(Settings(jurisdiction="US-CA", retention_days=7, require_consent=False))
    assert own.retention_days == 7 and not own.require_consent
    plain, none = apply_jurisdiction(Settings())
    assert none is None and plain == Settings()
    uk, _ = apply_jurisdiction(Settings(jurisdiction="UK"))
    assert uk.ai_disclosure_every_s is None  # UK law sets no interval


def test_a_requests_country_can_add_reminders_but_not_remove_them(guard: Guard) -> None:
    uk, _ = apply_jurisdiction(Settings(jurisdiction="UK"))
    cg = ConversationGuard(guard, MemoryStateStore(), settings=uk)
    at = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)

    def first(country: str | None, store_settings: Settings = uk) -> Any:
        g = ConversationGuard(guard, MemoryStateStore(), settings=store_settings)
        return g.observe({"conversation": uuid.uuid4().hex, "sender": "k", "role": "child", "text": "hi",
                          "age": 11, "country": country, "time": at})

    assert first("GB").disclosure is None and first(None).disclosure is None  # the UK profile sets no interval
    assert first("FR").disclosure is not None  # an EU child: AI Act art. 50 reminders
    ca, _ = apply_jurisdiction(Settings(jurisdiction="US-CA"))
    assert first("GB", ca).disclosure is not None  # a California deployment keeps its own reminders
    assert cg.analyzers[-1].name == "disclosure"


def test_sb243_reminders_for_known_minors(guard: Guard) -> None:
    settings, _ = apply_jurisdiction(Settings(jurisdiction="US-CA"))
    cg = ConversationGuard(guard, MemoryStateStore(), settings=settings)
    start = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
    cid = uuid.uuid4().hex

    def say(minutes: int, age: Any = 12) -> Any:
        return cg.observe({"conversation": cid, "sender": "kid", "role": "child", "text": "tell me about volcanoes",
                           "age": age, "time": start + timedelta(minutes=minutes)})

    turns = {m: say(m) for m in range(0, 380, 20)}  # one session: a message every 20 minutes for 6 hours
    disclosed = [m for m, d in turns.items() if d.disclosure]
    assert disclosed == [0, 180, 360]  # at the start, then whenever 3 hours have passed
    assert turns[0].disclosure is not None and "AI" in turns[0].disclosure
    breaks = [m for m, d in turns.items() if any(f.kind == "long_session" for f in d.findings)]
    assert breaks == [180, 360]  # a break reminder every 3 hours of one session
    unknown = ConversationGuard(guard, MemoryStateStore(), settings=settings)
    first = unknown.observe({"conversation": "u", "sender": "a", "role": "child", "text": "hi", "time": start})
    assert first.disclosure is None  # not a known minor: no age given, no age signal
    signalled = unknown.observe({"conversation": "u", "sender": "a", "role": "child", "text": "im 12",
                                 "time": start + timedelta(minutes=1)})
    assert signalled.disclosure is not None


@pytest.fixture(scope="module")
def eu_site() -> Iterator[tuple[str, Store]]:
    tmp = Path(tempfile.mkdtemp())
    cfg = Settings(key_file=tmp / "key", database_url=f"sqlite:///{tmp}/cg.db", transparency_min_count=1,
                   jurisdiction="EU")
    store = Store(apply_jurisdiction(cfg)[0])
    for url in _serve(cfg, store=store):
        yield url, store


def test_consent_follows_the_requests_country_and_age(eu_site: tuple[str, Store]) -> None:
    url, _ = eu_site

    def turn(country: str | None, age: Any, profile: str = "p1") -> int:
        body = {"conversation": uuid.uuid4().hex, "sender": "k", "role": "child", "text": "hello", "age": age,
                "profile": profile}
        if country:
            body["country"] = country
        return httpx.post(f"{url}/v1/conversations/messages", json=body).status_code

    assert turn("DE", 14) == 403  # Germany: consent below 16
    assert turn("DK", 14) == 200  # Denmark: 13
    assert turn("US", 12) == 403 and turn("US", 14) == 200  # COPPA: under 13
    assert turn("AU", 10) == 200  # the Australian profile does not require consent
    assert turn(None, None) == 403  # unknown age under the EU profile: the stricter reading
    httpx.post(f"{url}/v1/consents", json={"profile_id": "p2", "method": "card_check"})
    assert turn("DE", 14, "p2") == 200
    chat = httpx.post(f"{url}/v1/chat/completions", json={"model": "m", "user": "p3", "messages": [
        {"role": "user", "content": "hi"}], "childguard": {"age": 11, "country": "FR"}})
    assert chat.status_code == 403 and chat.json()["error"]["code"] == "consent_required"


def test_transparency_shows_the_profile_and_publishes_its_counts(eu_site: tuple[str, Store]) -> None:
    url, _ = eu_site
    data = httpx.get(f"{url}/v1/transparency").json()
    assert data["jurisdiction"]["id"] == "EU" and "DSA" in data["jurisdiction"]["cite"]
    assert "by_day" not in data and "by_source" in data and "contests" in data  # EU publishes no daily series
    page = httpx.get(f"{url}/transparency").text
    assert "Jurisdiction profile: <strong>European Union</strong>" in page


def test_gateway_discloses_ai_at_the_start_for_known_minors(tmp_path: Path) -> None:
    cfg = Settings(key_file=tmp_path / "key", database_url=f"sqlite:///{tmp_path}/cg.db", jurisdiction="US-CA",
                   require_consent=False)
    with chat_server("safe") as upstream:
        cfg = cfg.model_copy(update={"upstream_url": upstream})
        for url in _serve(cfg):
            def ask(text: str, url: str = url) -> str:
                r = httpx.post(f"{url}/v1/chat/completions", json={"model": "m", "user": "kid-7", "messages": [
                    {"role": "user", "content": text}], "childguard": {"age": 12}})
                assert r.status_code == 200, r.text
                return str(r.json()["choices"][0]["message"]["content"])

            first, second = ask("what is a volcano?"), ask("and a geyser?")
            assert first.startswith("A reminder: I'm an AI") and not second.startswith("A reminder")


def _cli(args: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> tuple[int, str]:
    monkeypatch.setenv("CHILDGUARD_DATABASE_URL", f"sqlite:///{tmp_path}/cg.db")
    monkeypatch.setenv("CHILDGUARD_KEY_FILE", str(tmp_path / "key"))
    monkeypatch.setenv("CHILDGUARD_TRANSPARENCY_MIN_COUNT", "1")
    for k in ("CHILDGUARD_JURISDICTION", "CHILDGUARD_REQUIRE_CONSENT"):
        monkeypatch.delenv(k, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    out = io.StringIO()
    try:
        return main(["compliance", *args], out=out), out.getvalue()
    finally:
        get_settings.cache_clear()


def test_compliance_checklist_with_evidence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, guard: Guard) -> None:
    store = Store(Settings(database_url=f"sqlite:///{tmp_path}/cg.db", key_file=tmp_path / "key"))
    store.open_case(guard.check("i want to kill myself", age=13), "i want to kill myself", "moderation")
    rc, text = _cli(["--jurisdiction", "US-CA"], monkeypatch, tmp_path, CHILDGUARD_JURISDICTION="US-CA")
    assert rc == 0 and text.startswith("childguard compliance: California (United States) [US-CA]")
    assert "[NOT MET]" not in text and "[operator] sb243_protocol" in text and "note:" not in text
    assert "[met]      sb243_disclosure" in text and "every 3 h for known minors" in text
    assert "opened: 1" in text  # figures from the store
    rc, text = _cli(["--jurisdiction", "US-CA", "--json", "--no-store"], monkeypatch, tmp_path,
                    CHILDGUARD_JURISDICTION="US-CA", CHILDGUARD_REQUIRE_CONSENT="false")
    items = {i["id"]: i for i in json.loads(text)["items"]}
    assert items["consent"]["status"] == "not met" and "REQUIRE_CONSENT=false" in items["consent"]["evidence"]
    assert items["sb243_break"]["status"] == "met"
    rc, text = _cli(["--jurisdiction", "US-CA", "--no-store"], monkeypatch, tmp_path)
    assert "note: the service runs with CHILDGUARD_JURISDICTION=(unset)" in text
    assert "[NOT MET]  sb243_disclosure" in text  # the profile is not applied just by asking about it
    assert _cli(["--jurisdiction", "XX"], monkeypatch, tmp_path)[0] == 4


def test_every_profiles_checklist_evaluates(guard: Guard) -> None:
    for jid in load_jurisdictions():
        j, results = evaluate(Settings(jurisdiction=jid))
        assert results and all(r.status in ("met", "not met", "operator must do") for r in results), jid
        assert j.id == jid
    _, results = evaluate(Settings(jurisdiction="AU", conversation_analyzers=["grooming"]), "EU")
    assert {r.id: r.status for r in results}["no_exploiting_age"] == "not met"
    assert AgeBand.EARLY_TEEN.is_child


def test_cria_report_shows_the_jurisdiction_profile(tmp_path: Path) -> None:
    with chat_server("safe") as url:
        r = subprocess.run([sys.executable, "-m", "childguard", "audit", "--target", url, "--age", "10",
                            "--no-transforms", "--langs", "en", "--jurisdiction", "UK", "--out", str(tmp_path / "o")],
                           capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 0, r.stderr
    summary = json.loads((tmp_path / "o/summary.json").read_text())
    assert summary["meta"]["jurisdiction"]["jurisdiction"]["id"] == "UK"
    html = (tmp_path / "o/report.html").read_text()
    assert "Jurisdiction profile: United Kingdom [UK]" in html and "AADC standard 7" in html
