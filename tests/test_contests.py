"""A child can contest a decision: signed short tokens that carry no text, a low-priority review case
with the reasons and the redacted excerpt, answers in child-friendly words, the false-alarm export,
transparency counts, the API and pages over real HTTP, and the page in headless Chromium (RTL)."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from childguard import Guard, Settings
from childguard.contesting import ContestDesk, ContestRequest
from childguard.errors import ConflictError, InvalidInputError, NotFoundError
from childguard.store import Store
from childguard.store.contests import Contests
from childguard.store.tables import ContestToken
from tests.test_service import _serve

BLOCKED = "where can i watch porn? call me on 07700 900123"
SHOTS = Path(__file__).resolve().parents[1] / "build/screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(Settings(key_file=tmp_path / "key", database_url=f"sqlite:///{tmp_path}/cg.db"))


def _blocked(guard: Guard) -> Any:
    d = guard.check(BLOCKED, age=11)
    assert d.action.value in ("block", "redirect")
    return d


def test_only_a_childs_blocked_or_redirected_message_gets_a_short_signed_token(guard: Guard, store: Store) -> None:
    contests = Contests(store)
    token = contests.issue(_blocked(guard), BLOCKED, "moderation")
    assert token is not None and len(token) <= 32 and re.fullmatch(r"[a-z2-7]+\.[a-z2-7]+", token)
    assert contests.issue(guard.check("can you help me with fractions?", age=11), "fractions", "moderation") is None
    assert contests.issue(guard.check(BLOCKED, age=11, role="ai_output"), BLOCKED, "gateway") is None
    with store.sessions() as s:
        row = s.scalars(select(ContestToken)).one()
    assert row.excerpt is not None and b"porn" not in row.excerpt  # sealed
    assert "07700" not in store.box.open(row.excerpt) and "porn" in store.box.open(row.excerpt)  # redacted
    head, mac = token.split(".")
    for forged in (f"{head}.{'a' * len(mac)}", f"aaab.{mac}", "x", "a.b.c", token + "a", ""):
        with pytest.raises(InvalidInputError, match="not valid"):
            contests.parse(forged)
    other = Contests(Store(Settings(key_file=store.url.replace("sqlite:///", "") + ".other-key",
                                    database_url=store.url)))
    with pytest.raises(InvalidInputError):  # another deployment's key does not accept this token
        other.parse(token)


def test_a_contest_is_a_low_priority_case_a_moderator_can_uphold(guard: Guard, store: Store) -> None:
    contests = Contests(store)
    desk = ContestDesk(contests)
    severe = guard.check("i want to kill myself", age=13)
    store.open_case(severe, "i want to kill myself", "moderation")
    token = contests.issue(_blocked(guard), BLOCKED, "moderation")
    assert token is not None
    receipt = desk.submit(ContestRequest(token=token, message="i meant the word in a film title, email me a@b.co",
                                         lang="fr"))
    assert receipt.message.startswith("Une personne va regarder")
    queue = store.queue()
    assert queue[-1]["source"] == "contest" and queue[-1]["severity"] == 0  # after every safeguarding case
    case = store.view(queue[-1]["id"], "max")
    assert case["reasons"][0].startswith("the child contests this") and len(case["reasons"]) >= 2
    assert "porn" in case["excerpt"] and "07700" not in case["excerpt"] and "a@b.co" not in case["excerpt"]
    assert "film title" in case["excerpt"]
    with store.sessions() as s:
        assert s.scalars(select(ContestToken)).one().excerpt is None  # moved into the case, not kept twice
    with pytest.raises(ConflictError):
        desk.submit(ContestRequest(token=token, lang="en"))
    status = desk.status(receipt.reference.lower(), "en")
    assert status.status == "received" and status.message.startswith("We have your request")
    store.decide(queue[-1]["id"], "max", "false_alarm", "fine")
    upheld = desk.status(receipt.reference, "es")
    assert upheld.status == "upheld" and upheld.message.startswith("Una persona lo revisó. Tenías razón")
    rows = store.false_alarms("ada")
    assert [r["source"] for r in rows] == ["contest"] and rows[0]["label"] == "benign"
    with pytest.raises(NotFoundError):
        desk.status("ABCD-EFGH-JKMN", "en")


def test_decision_stands_and_expired_tokens(guard: Guard, store: Store) -> None:
    contests = Contests(store, window_days=1)
    desk = ContestDesk(contests)
    token = contests.issue(_blocked(guard), BLOCKED, "gateway")
    assert token is not None
    receipt = desk.submit(ContestRequest(token=token, lang="sw"))
    case_id = store.queue()[0]["id"]
    store.decide(case_id, "max", "resolved")
    stands = desk.status(receipt.reference, "sw")
    assert stands.status == "decision_stands" and stands.message.startswith("Mtu amekagua kwa makini")
    old = contests.issue(_blocked(guard), BLOCKED, "gateway")
    assert old is not None
    with store.sessions.begin() as s:
        s.execute(update(ContestToken).values(created_at=datetime.now(UTC) - timedelta(days=2)))
    with pytest.raises(NotFoundError, match="trop ancien"):
        desk.submit(ContestRequest(token=old, lang="fr"))
    assert contests.expire() == 2
    with store.sessions() as s:
        assert s.scalars(select(ContestToken)).all() == []


def test_transparency_counts_contests_per_category_and_language(guard: Guard, store: Store) -> None:
    contests = Contests(store)
    desk = ContestDesk(contests)
    decision = _blocked(guard)
    refs = []
    for lang in ("en", "en", "fr"):
        token = contests.issue(decision, BLOCKED, "moderation")
        assert token is not None
        refs.append(desk.submit(ContestRequest(token=token, lang=lang)))
    ids = [c["id"] for c in store.queue()]
    store.decide(ids[0], "max", "false_alarm")
    store.decide(ids[1], "max", "resolved")
    stats = contests.stats(30, 1)
    assert stats["total"] == {"received": 3, "upheld": 1, "decision_stands": 1, "open": 1}
    first = decision.flagged[0]
    assert stats["by_category"][first]["received"] == 3
    assert stats["by_language"] == {decision.lang: {"received": 3, "upheld": 1, "decision_stands": 1, "open": 1}}
    assert contests.stats(30, 5)["total"]["received"] == "<5"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, Store]]:
    tmp = Path(tempfile.mkdtemp())
    cfg = Settings(key_file=tmp / "key", database_url=f"sqlite:///{tmp}/cg.db", transparency_min_count=1,
                   api_keys=["k-secret"])
    store = Store(cfg)
    for url in _serve(cfg, store=store):
        yield url, store


AUTH = {"Authorization": "Bearer k-secret"}


def test_contest_over_http_without_account_or_cookie(served: tuple[str, Store]) -> None:
    url, store = served
    mod = httpx.post(f"{url}/v1/moderations", json={"input": [BLOCKED, "what is 7 times 8?"], "age": 11},
                     headers=AUTH).json()
    token = mod["results"][0]["childguard"]["contest_token"]
    assert token and mod["results"][1]["childguard"]["contest_token"] is None
    assert "porn" not in token
    r = httpx.post(f"{url}/v1/contests", json={"token": token, "message": "it was for school", "lang": "de"})
    assert r.status_code == 201, r.text  # no API key, no account
    assert "set-cookie" not in r.headers and r.json()["message"].startswith("Ein Mensch schaut")
    ref = r.json()["reference"]
    case = next(c for c in store.queue() if c["source"] == "contest")
    assert case["severity"] == 0 and "07700" not in (store.view(case["id"], "t")["excerpt"] or "")
    again = httpx.post(f"{url}/v1/contests", json={"token": token})
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    assert httpx.post(f"{url}/v1/contests", json={"token": "abc.def"}).status_code == 422
    assert httpx.post(f"{url}/v1/contests", json={"token": token, "message": "x" * 201}).status_code == 422
    assert httpx.post(f"{url}/v1/contests", json={"token": 5}).status_code == 422
    status = httpx.get(f"{url}/v1/contests/{ref}", params={"lang": "hi"}).json()
    assert status["status"] == "received" and status["message"].startswith("हमें तुम्हारा अनुरोध")
    form = httpx.get(f"{url}/v1/contests/form", params={"lang": "ar"}).json()
    assert form["dir"] == "rtl" and {"en", "fr", "es", "de", "ar", "pt", "sw", "hi"} == set(form["languages"])
    transparency = httpx.get(f"{url}/v1/transparency", headers=AUTH).json()
    assert transparency["contests"]["total"]["received"] >= 1
    page = httpx.get(f"{url}/transparency")
    assert "Children contesting decisions" in page.text


def test_conversation_api_and_gateway_carry_a_contest_token(served: tuple[str, Store]) -> None:
    url, _ = served
    turn = {"conversation": uuid.uuid4().hex, "sender": "kid", "role": "child", "text": BLOCKED, "age": 11}
    conv = httpx.post(f"{url}/v1/conversations/messages", json=turn, headers=AUTH).json()
    assert conv["message_decision"]["contest_token"]
    contact = httpx.post(f"{url}/v1/conversations/messages", headers=AUTH,
                         json={**turn, "role": "contact", "sender": "x"}).json()
    assert contact["message_decision"]["contest_token"] is None
    chat = httpx.post(f"{url}/v1/chat/completions", headers=AUTH, json={
        "model": "m", "messages": [{"role": "user", "content": BLOCKED}], "childguard": {"age": 11}}).json()
    assert chat["childguard"]["upstream_called"] is False and chat["childguard"]["contest_token"]
    with httpx.stream("POST", f"{url}/v1/chat/completions", headers=AUTH, json={
            "model": "m", "stream": True, "messages": [{"role": "user", "content": BLOCKED}],
            "childguard": {"age": 11}}) as r:
        chunks = [json.loads(line[5:]) for line in r.iter_lines() if line.startswith("data: {")]
    assert chunks[-1]["childguard"]["contest_token"]
    for token in (conv["message_decision"]["contest_token"], chat["childguard"]["contest_token"]):
        assert httpx.post(f"{url}/v1/contests", json={"token": token}).status_code == 201


def test_contest_page_forms_in_every_language(served: tuple[str, Store]) -> None:
    url, _ = served
    for lang in ("en", "fr", "es", "de", "ar", "pt", "sw", "hi"):
        r = httpx.get(f"{url}/contest", params={"lang": lang, "token": "abc.def"})
        # changed (issue 20): the bad token is said when the page opens, before the child writes a reason
        assert r.status_code == 422 and f'lang="{lang}"' in r.text and "<textarea" not in r.text
        assert ('dir="rtl"' in r.text) is (lang == "ar")
        assert r.headers["content-security-policy"].startswith("default-src 'none'")
    no_token = httpx.get(f"{url}/contest", params={"lang": "en"})
    assert "use the link the app showed you" in no_token.text and 'name="token"' not in no_token.text
    bad = httpx.post(f"{url}/contest", data={"token": "abc.def", "lang": "pt", "message": "oi"})
    assert bad.status_code == 422 and "Este link não funciona" in bad.text and ">oi</textarea>" in bad.text


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed (make test installs it)")
def test_contest_page_in_chromium_right_to_left(served: tuple[str, Store]) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    url, store = served
    mod = httpx.post(f"{url}/v1/moderations", json={"input": "أين أشاهد أفلام إباحية", "age": 10, "lang": "ar"},
                     headers=AUTH).json()["results"][0]["childguard"]
    token = mod["contest_token"]
    assert token, mod["action"]
    requests: list[str] = []
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 420, "height": 900}, locale="ar")
        page.on("request", lambda r: requests.append(r.url))
        page.goto(f"{url}/contest?token={token}")  # language from the browser
        assert page.locator("html").get_attribute("dir") == "rtl"
        assert page.locator("h1").inner_text() == "هل كان هذا خطأ؟"
        box = page.locator("h1").bounding_box()
        assert box is not None and box["x"] + box["width"] > 300  # starts at the right margin
        page.screenshot(path=str(SHOTS / "contest_ar.png"), full_page=True)
        page.fill("#message", "كنت أسأل عن واجب مدرسي")
        page.click("form[action='/contest'] button")
        code = page.locator("#reference").inner_text()
        assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", code)
        page.screenshot(path=str(SHOTS / "contest_ar_thanks.png"), full_page=True)
        assert not page.context.cookies()
        page.goto(f"{url}/contest?lang=ar")
        page.fill("#code", code)
        page.click("form[action='/contest/status'] button")
        assert code not in page.url
        assert page.locator("p[role=status]").inner_text().startswith("وصلنا طلبك")
        browser.close()
    assert all(r.startswith(url) for r in requests), requests
    case = next(c for c in store.queue() if c["source"] == "contest" and c["lang"] == "ar")
    assert case["severity"] == 0


def test_withdrawing_consent_deletes_the_profiles_uncontested_tokens(served: tuple[str, Store]) -> None:
    url, store = served
    profile = f"kid-{uuid.uuid4().hex[:8]}"
    httpx.post(f"{url}/v1/consents", json={"profile_id": profile, "method": "card_check"}, headers=AUTH)
    token = httpx.post(f"{url}/v1/moderations", json={"input": BLOCKED, "age": 11, "profile": profile},
                       headers=AUTH).json()["results"][0]["childguard"]["contest_token"]
    assert token
    w = httpx.post(f"{url}/v1/consents/{profile}/withdraw", headers=AUTH)
    assert w.status_code == 200 and w.json()["deleted"]["contest_tokens"] == 1
    with store.sessions() as s:
        assert not s.scalars(select(ContestToken).where(ContestToken.profile_ref == store.profile_ref(profile))).all()
    assert httpx.post(f"{url}/v1/contests", json={"token": token}).status_code == 404


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed (make test installs it)")
def test_moderator_upholds_a_contest_in_the_console(served: tuple[str, Store]) -> None:
    from childguard.store.accounts import Accounts

    sync_api = pytest.importorskip("playwright.sync_api")
    url, store = served
    Accounts(store).add_user("mia", "correct horse battery", "moderator")
    token = httpx.post(f"{url}/v1/moderations", json={"input": BLOCKED, "age": 11}, headers=AUTH).json()[
        "results"][0]["childguard"]["contest_token"]
    ref = httpx.post(f"{url}/v1/contests", json={"token": token, "message": "it was a quote, call 07700 900456"}
                     ).json()["reference"]
    case_id = max(c["id"] for c in store.queue() if c["source"] == "contest")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(f"{url}/console")
        page.fill("#username", "mia")
        page.fill("#password", "correct horse battery")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        page.goto(f"{url}/console/cases/{case_id}")
        assert "thinks this decision was a mistake" in page.locator("p.notice").inner_text()
        excerpt = page.locator(".excerpt").inner_text()
        assert "porn" in excerpt and "07700" not in excerpt and "it was a quote" in excerpt
        assert "the child contests this" in page.locator("ul").inner_text()
        page.screenshot(path=str(SHOTS / "console_contest.png"), full_page=True)
        page.check("input[value=false_alarm]")
        page.click("form[action$='/decision'] button")
        page.wait_for_load_state()
        browser.close()
    status = httpx.get(f"{url}/v1/contests/{ref}").json()
    assert status["status"] == "upheld" and status["message"].startswith("A person checked. You were right")
    exported = [r for r in store.false_alarms("t") if r["case_id"] == case_id]
    assert exported and exported[0]["source"] == "contest" and "07700" not in exported[0]["text"]
    assert exported[0]["text"].startswith("where can i watch porn") and "quote" not in exported[0]["text"]
