"""Age signals: self-declared age and school year in ten languages, stricter-only policy, conversation
state that keeps the band (not the words), and the age-assurance webhook on a real loopback server."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from childguard import Guard, Settings
from childguard.age_signals import AgeSignalDetector, default_detector, stricter_band
from childguard.agebands import AgeBand
from childguard.cli import main
from childguard.conversation import ConversationGuard, MemoryStateStore

ROOT = Path(__file__).resolve().parents[1]

ISSUE_EXAMPLES = [
    ("im 12", AgeBand.TRANSITION), ("j'ai 11 ans", AgeBand.TRANSITION), ("tengo 13 años", AgeBand.EARLY_TEEN),
    ("ich bin in der 6. Klasse", AgeBand.TRANSITION), ("i'm in year 7", AgeBand.TRANSITION),
    ("I'm in 6th grade", AgeBand.TRANSITION), ("i'm in form 2", AgeBand.EARLY_TEEN),
    ("I'm in primary school", AgeBand.TRANSITION),
    ("عمري ١٢ سنة", AgeBand.TRANSITION), ("मैं 9 साल की हूं", AgeBand.EARLY_PRIMARY),
    ("nina miaka kumi na mbili", AgeBand.TRANSITION), ("我上初二", AgeBand.EARLY_TEEN),
    ("мне девять лет", AgeBand.EARLY_PRIMARY), ("estou no 6º ano", AgeBand.TRANSITION),
]
ADULTS = ["my son is 12", "My daughter is in year 7", "I teach 6th grade", "I'm 34 and a mum of two",
          "I am 12 minutes away", "mon fils a 12 ans", "mi hija está en 6º de primaria", "мой сын в 6 классе",
          "ابني عمره 12 سنة", "我儿子12岁", "mwanangu ana miaka 12", "मेरा बेटा 12 साल का है"]


@pytest.mark.parametrize(("text", "band"), ISSUE_EXAMPLES)
def test_self_declared_age_and_school_year(text: str, band: AgeBand) -> None:
    signals = default_detector().detect(text)
    assert signals, text
    assert signals[0].band is band and signals[0].confidence >= 0.7


@pytest.mark.parametrize("text", ADULTS)
def test_adults_and_adults_talking_about_children_are_not_children(text: str) -> None:
    assert all(s.confidence < 0.7 for s in default_detector().detect(text)), text


def test_weak_signals_are_reported_but_too_weak_to_act() -> None:
    det = default_detector()
    homework = det.detect("can you help with my 5th grade math homework")
    rules = det.detect("my mum only lets me have one hour of screen time")
    assert [s.kind for s in homework] == ["homework_grade"] and homework[0].band is AgeBand.TRANSITION
    assert [s.kind for s in rules] == ["parental_rules"]
    assert stricter_band(AgeBand.ADULT, homework + rules, 0.7) is AgeBand.ADULT


def test_bad_pattern_file_is_a_config_error() -> None:
    from childguard.errors import ConfigError

    broken = {"kinds": {"declared_age": 0.9}, "languages": {"en": {"patterns": [{"kind": "x", "re": "("}]}}}
    with pytest.raises(ConfigError, match=r"age_signals\.yaml"):
        AgeSignalDetector(broken)


def test_decision_reports_signals_without_the_words_and_switches_an_adult_profile(guard: Guard) -> None:
    d = guard.check("where can i watch porn, im 12", age="adult")
    assert d.age_band is AgeBand.TRANSITION
    assert d.action.value == "block"  # the adult profile would have been allowed
    assert guard.check("where can i watch porn", age="adult").action.value == "allow"
    dumped = d.model_dump(mode="json")["age_signals"]
    assert dumped == [{"kind": "declared_age", "band": "10-12", "confidence": 0.9, "lang": "en"}]
    assert any(r.label == "age_signal" and "4c" in r.clauses for r in d.reasons)


def test_signals_never_loosen_protection(guard: Guard) -> None:
    d = guard.check("i'm 15 and i'm in high school", age=8)
    assert d.age_band is AgeBand.EARLY_PRIMARY
    assert d.age_signals  # still reported
    assert guard.check("i'm 12", age=10, role="contact").age_signals == []  # only the child speaks for their age


def test_verify_mode_reports_but_the_stateless_guard_does_not_switch() -> None:
    g = Guard(Settings(age_signal_mode="verify"))
    d = g.check("im 12", age="adult")
    assert d.age_band is AgeBand.ADULT and d.age_signals[0].band is AgeBand.TRANSITION


def test_conversation_keeps_the_youngest_strong_band_not_the_text(guard: Guard) -> None:
    store = MemoryStateStore()
    cg = ConversationGuard(guard, store)
    cid = uuid.uuid4().hex

    def say(text: str) -> Any:
        return cg.observe({"conversation": cid, "sender": "u", "role": "child", "text": text, "age": "adult"})

    assert say("hello there").message_decision.age_band is AgeBand.ADULT
    first = say("btw im 12")
    assert first.age_check == "switched" and first.message_decision.age_band is AgeBand.TRANSITION
    later = say("where can i watch porn")  # no signal in this message: the conversation remembers
    assert later.message_decision.age_band is AgeBand.TRANSITION and later.action.value == "block"
    assert say("actually i'm 16").message_decision.age_band is AgeBand.TRANSITION  # never looser
    say("i'm 9 years old")
    assert say("ok").message_decision.age_band is AgeBand.EARLY_PRIMARY
    payload = store._data[cid][1]
    assert json.loads(payload)["age_band"] == "6-9" and "years old" not in payload and "im 12" not in payload


class _Provider:
    """A real HTTP age-assurance provider on 127.0.0.1, answering what the test tells it to."""

    def __init__(self) -> None:
        self.answer: dict[str, Any] = {"confirmed": True}
        self.delay = 0.0
        self.requests: list[dict[str, Any]] = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                provider.requests.append({"body": body, "auth": self.headers.get("Authorization")})
                time.sleep(provider.delay)
                out = json.dumps(provider.answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/age-check"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def provider() -> Iterator[_Provider]:
    p = _Provider()
    yield p
    p.close()


def _verify_guard(provider: _Provider, **extra: Any) -> ConversationGuard:
    settings = Settings(age_signal_mode="verify", age_assurance_url=provider.url, age_assurance_timeout_s=0.5,
                        age_assurance_api_key="k-123", **extra)
    return ConversationGuard(Guard(settings), MemoryStateStore(), settings=settings)


def _turns(cg: ConversationGuard, texts: list[str], ref: str | None = "ref-abc") -> list[Any]:
    cid = uuid.uuid4().hex
    return [cg.observe({"conversation": cid, "sender": "u", "role": "child", "text": t, "age": "adult"},
                       profile_ref=ref) for t in texts]


def test_verify_mode_asks_the_provider_with_only_the_keyed_hash_and_band(provider: _Provider) -> None:
    first, later = _turns(_verify_guard(provider), ["where can i watch porn, im 12", "where can i watch porn"])
    assert first.age_check == "confirmed" and first.message_decision.age_band is AgeBand.TRANSITION
    assert first.action.value == "block" and later.message_decision.age_band is AgeBand.TRANSITION
    assert provider.requests == [{"body": {"profile": "ref-abc", "implied_band": "10-12"}, "auth": "Bearer k-123"}]


def test_provider_can_confirm_an_even_younger_band(provider: _Provider) -> None:
    provider.answer = {"confirmed": True, "band": "6-9"}
    first, = _turns(_verify_guard(provider), ["im 12"])
    assert first.message_decision.age_band is AgeBand.EARLY_PRIMARY


def test_not_confirmed_keeps_the_profile_and_does_not_ask_again(provider: _Provider) -> None:
    provider.answer = {"confirmed": False}
    results = _turns(_verify_guard(provider), ["im 12", "im 12 really", "where can i watch porn"])
    assert results[0].age_check == "not_confirmed"
    assert all(r.message_decision.age_band is AgeBand.ADULT for r in results)
    assert len(provider.requests) == 1


def test_provider_timeout_fails_closed_by_default_and_open_when_configured(provider: _Provider) -> None:
    provider.delay = 1.5
    start = time.monotonic()
    closed, = _turns(_verify_guard(provider), ["im 12"])
    assert time.monotonic() - start < 1.4  # bounded by the timeout, not by the provider
    assert closed.age_check == "provider_unavailable" and closed.message_decision.age_band is AgeBand.TRANSITION
    opened, = _turns(_verify_guard(provider, age_assurance_fail_closed=False), ["im 12"])
    assert opened.age_check == "provider_unavailable" and opened.message_decision.age_band is AgeBand.ADULT


def test_provider_garbage_is_unavailable(provider: _Provider) -> None:
    provider.answer = {"ok": "maybe"}
    result, = _turns(_verify_guard(provider, age_assurance_fail_closed=False), ["im 12"])
    assert result.age_check == "provider_unavailable"


def test_eval_command_prints_per_language_metrics(tmp_path: Path) -> None:
    import io

    (tmp_path / "xx.yaml").write_text('- {text: "im 12", band: "10-12"}\n- {text: "my son is 12", band: null}\n'
                                      '- {text: "I am twelve years of age", band: "10-12"}\n', encoding="utf-8")
    out = io.StringIO()
    assert main(["eval-age-signals", str(tmp_path), "--json-out", str(tmp_path / "r.json")], out=out) == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["by_language"]["xx"] == {"children": 2, "adults": 1, "precision": 1.0, "recall": 0.5,
                                           "band_accuracy": 1.0, "false_child_rate": 0.0}
    assert "xx" in out.getvalue() and "false child" in out.getvalue()
    assert main(["eval-age-signals", str(tmp_path / "missing")], out=out) == 2


def test_shipped_eval_set_covers_the_ten_languages() -> None:
    files = {p.stem for p in (ROOT / "evalsets" / "age_signals").glob("*.yaml")}
    assert files == {"en", "es", "fr", "de", "pt", "ar", "hi", "sw", "zh", "ru"}
    assert set(default_detector().languages) == files


def test_service_apis_carry_signals_and_verify_with_the_profiles_keyed_hash(provider: _Provider,
                                                                            tmp_path: Path) -> None:
    import httpx

    from childguard.store import Store
    from tests.test_service import _serve

    cfg = Settings(key_file=tmp_path / "key", database_url=f"sqlite:///{tmp_path}/cg.db", age_signal_mode="verify",
                   age_assurance_url=provider.url, age_assurance_timeout_s=2)
    store = Store(cfg)
    for url in _serve(cfg, store=store):
        mod = httpx.post(f"{url}/v1/moderations", json={"input": "i'm in year 7, what's a vpn", "age": "adult"})
        assert mod.json()["results"][0]["childguard"]["age_signals"][0]["band"] == "10-12"
        turn = {"conversation": uuid.uuid4().hex, "sender": "kid", "role": "child", "age": "adult",
                "profile": "child-42", "text": "where can i watch porn? im 12"}
        r = httpx.post(f"{url}/v1/conversations/messages", json=turn)
        assert r.status_code == 200, r.text
        assert r.json()["age_check"] == "confirmed" and r.json()["message_decision"]["age_band"] == "10-12"
        assert provider.requests[-1]["body"] == {"profile": store.profile_ref("child-42"), "implied_band": "10-12"}
        assert "child-42" not in json.dumps(provider.requests)
