"""One review case per conversation, updated as evidence grows, with the turn-by-turn timeline in the
case view (redacted, sealed at rest); console errors are pages. In-process (TestClient), SQLite."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from childguard import Settings
from childguard.service import create_app
from childguard.store import Store
from childguard.store.accounts import Accounts
from childguard.store.records import CaseRecord
from childguard.store.tables import ReviewCase

PASSWORD = "correct horse battery"
GROOMING = [("contact", "m1", "gg that was an awesome round"), ("child", "k", "thanks!! you were good too"),
            ("contact", "m1", "you play better than most adults i know honestly"),
            ("child", "k", "lol i play every day"),
            ("contact", "m1", "how old are you anyway?"), ("child", "k", "11, my snap is amy_2014"),
            ("contact", "m1", "cool, i can gift you some robux if you want, no big deal"),
            ("child", "k", "really?? thanks"),
            ("contact", "m1", "let's chat on snapchat instead, the game chat is annoying"),
            ("contact", "m1", "and don't tell your parents, they'd just take your phone"),
            ("contact", "m1", "send me a pic so i know you're real")]
BULLYING = [("contact", "a", "why are you even in this group"), ("contact", "b", "nobody wants you here, just leave"),
            ("contact", "a", "you're so ugly, everyone hates you"), ("contact", "c", "lol go cry to your mummy"),
            ("contact", "b", "we're posting that video of you tomorrow"),
            ("contact", "a", "you are so ugly, everyone hates you, nobody likes you"),
            ("contact", "b", "kill yourself nobody would miss you")]


@pytest.fixture()
def site(tmp_path: Path) -> Iterator[tuple[TestClient, Store]]:
    cfg = Settings(key_file=tmp_path / "key", database_url=f"sqlite:///{tmp_path}/cg.db", cookie_secure=False)
    store = Store(cfg)
    Accounts(store).add_user("max", PASSWORD, "moderator")
    with TestClient(create_app(cfg, store=store), base_url="http://127.0.0.1") as client:
        yield client, store


def _talk(client: TestClient, conversation: str, turns: list[tuple[str, str, str]], age: int = 11) -> list[Any]:
    out = []
    for i, (role, sender, text) in enumerate(turns):
        r = client.post("/v1/conversations/messages", json={
            "conversation": conversation, "sender": sender, "role": role, "text": text, "age": age,
            "time": f"2026-03-01T16:{i:02d}:00+00:00"})
        assert r.status_code == 200, r.text
        out.append(r.json())
    return out


def _conversation_cases(store: Store) -> list[dict[str, Any]]:
    return [c for c in store.queue() if c["source"] == "conversation"]


def _login(client: TestClient) -> None:
    page = client.get("/console/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    r = client.post("/console/login", data={"username": "max", "password": PASSWORD, "csrf": csrf.group(1)},
                    headers={"Origin": "http://127.0.0.1"}, follow_redirects=False)
    assert r.status_code == 303, r.text


def test_a_grooming_conversation_is_one_case_with_its_timeline(site: tuple[TestClient, Store]) -> None:
    client, store = site
    answers = _talk(client, "chat-1", GROOMING)
    escalated = [a["turn"] for a in answers if a["review_required"]]
    assert len(escalated) >= 2  # several turns escalate ...
    cases = _conversation_cases(store)
    assert len(cases) == 1  # ... and open one case
    case = store.view(cases[0]["id"], "max")
    assert case["updated_at"] is not None
    timeline = case["timeline"]
    assert [e["turn"] for e in timeline] == escalated
    assert timeline[0]["change"] == "case opened"
    assert any("new evidence" in e["change"] for e in timeline[1:])  # the moderator sees what changed
    assert timeline[0]["time"].startswith("2026-03-01T16:")
    evidence = [line for e in timeline for f in e["findings"] for line in f["evidence"]]
    assert any(line.startswith("turn 5:") for line in evidence)  # which turn moved which stage
    assert any(line.startswith("turn 10:") for line in evidence)
    # the turns that moved a stage earlier (not only the escalating ones) carry their time, UTC to the second
    moved = {m["turn"]: m["time"] for e in timeline for f in e["findings"] for m in f.get("moved", [])}
    assert moved[5] == "2026-03-01T16:04:00+00:00" and moved[7] == "2026-03-01T16:06:00+00:00"
    assert {f["kind"] for e in timeline for f in e["findings"]} >= {"grooming_trajectory"}
    assert store.audit_log()[-2]["action"] == "case_updated"
    # sealed at rest: neither the evidence nor the excerpts are readable in the database
    with store.sessions() as s:
        raw = s.scalars(select(ReviewCase.timeline).where(ReviewCase.id == case["id"])).one()
    assert raw and b"turn 5" not in raw and b"snapchat" not in raw

    _login(client)
    page = client.get(f"/console/cases/{case['id']}")
    assert page.status_code == 200
    assert "How the conversation escalated" in page.text and "Turn 9" in page.text
    assert "turn 5: questions about age" in page.text and "new evidence" in page.text
    assert "2026-03-01 16:04:00 UTC · turn 5: questions about age" in re.sub(r"<[^>]+>", "", page.text)


def test_a_bullying_chat_is_one_case_and_a_closed_case_is_not_reopened(site: tuple[TestClient, Store]) -> None:
    client, store = site
    answers = _talk(client, "group-7", BULLYING, age=12)
    assert sum(a["review_required"] for a in answers) >= 2
    cases = _conversation_cases(store)
    assert len(cases) == 1
    store.decide(cases[0]["id"], "max", "referred_helpline")
    _talk(client, "group-7", [("contact", "a", "you're so ugly, everyone hates you, nobody likes you")], age=12)
    again = _conversation_cases(store)
    assert len(again) == 1 and again[0]["id"] != cases[0]["id"]  # new evidence after a decision: a new case
    _talk(client, "other-chat", BULLYING[:3], age=12)
    assert len(_conversation_cases(store)) == 2  # other conversations keep their own cases


def test_a_replayed_write_changes_nothing(site: tuple[TestClient, Store]) -> None:
    _, store = site
    first = CaseRecord(source="conversation", severity=3, age_band="10-12", lang="en", categories=["harassment"],
                       reasons=["r"], excerpt="x", thread_ref="t" * 64)
    case_id = store.save_case(first)
    second = first.model_copy(update={"key": "k2", "severity": 4, "categories": ["grooming_trajectory"]})
    assert store.save_case(second) == case_id
    entries = len(store.audit_log())
    assert store.save_case(second) == case_id  # the spool replays the same write
    assert len(store.audit_log()) == entries
    view = store.view(case_id, "max")
    assert view["severity"] == 4 and view["categories"] == ["harassment", "grooming_trajectory"]
    assert len(view["timeline"]) == 2 and "severity 3 → 4" in view["timeline"][1]["change"]


def test_the_stored_excerpts_are_redacted(site: tuple[TestClient, Store]) -> None:
    client, store = site
    _talk(client, "chat-2", GROOMING)
    case = store.view(_conversation_cases(store)[0]["id"], "max")
    texts = [case["excerpt"] or "", *(e["excerpt"] or "" for e in case["timeline"])]
    assert texts and all("amy_2014" not in t for t in texts)


@pytest.mark.parametrize("path", ["/console/cases/abc", "/console/cases/99999", "/console/nowhere",
                                  "/console/cases/12345678901234567890"])
def test_console_errors_are_pages(site: tuple[TestClient, Store], path: str) -> None:
    client, _ = site
    _login(client)
    r = client.get(path)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "<h1>" in r.text and '"error"' not in r.text and "Back to the queue" in r.text
    # the APIs keep their JSON envelope
    api = client.get("/v1/nowhere")
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"


def test_a_decision_without_a_choice_is_a_page(site: tuple[TestClient, Store]) -> None:
    client, store = site
    _talk(client, "chat-3", BULLYING, age=12)
    _login(client)
    case_id = _conversation_cases(store)[0]["id"]
    page = client.get(f"/console/cases/{case_id}")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    r = client.post(f"/console/cases/{case_id}/decision", data={"csrf": csrf.group(1)},
                    headers={"Origin": "http://127.0.0.1"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    assert "choose a decision" in r.text


def test_the_case_view_reads_well_in_a_browser(tmp_path: Path) -> None:
    """The timeline in headless Chromium: every escalating turn, with what changed; a screenshot for people."""
    import shutil

    import httpx

    from tests.test_service import _serve

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.skip("Debian chromium not installed (make test installs it as root)")
    sync_api = pytest.importorskip("playwright.sync_api")
    cfg = Settings(key_file=tmp_path / "key", database_url=f"sqlite:///{tmp_path}/cg.db")
    store = Store(cfg)
    Accounts(store).add_user("max", PASSWORD, "moderator")
    for url in _serve(cfg, store=store):
        for i, (role, sender, text) in enumerate(GROOMING):
            httpx.post(f"{url}/v1/conversations/messages", json={
                "conversation": "chat-9", "sender": sender, "role": role, "text": text, "age": 11,
                "time": f"2026-03-01T16:{i:02d}:00+00:00"}).raise_for_status()
        case_id = _conversation_cases(store)[0]["id"]
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(f"{url}/console")
            page.fill("#username", "max")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            assert "updated" in page.locator("tbody tr").first.inner_text()
            page.goto(f"{url}/console/cases/{case_id}")
            items = page.locator("ol.timeline > li")
            assert items.count() == len(store.view(case_id, "max")["timeline"]) >= 2
            assert "case opened" in items.first.inner_text()
            assert "new evidence" in items.nth(1).inner_text()
            assert "16:04:00 UTC · turn 5: questions about age" in items.first.inner_text()
            assert "amy_2014" not in page.content()
            shots = Path(__file__).resolve().parents[1] / "build/screenshots"
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shots / "console_case_timeline.png"), full_page=True)
            page.goto(f"{url}/console/cases/abc")
            assert page.locator("h1").inner_text() == "Not found"
            page.screenshot(path=str(shots / "console_case_abc.png"))
            browser.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    from tests.test_store import _pg_up, pg_store

    settings = Settings(key_file=tmp_path / "key")
    if request.param == "sqlite":
        yield Store(settings, f"sqlite:///{tmp_path}/cg.db")
        return
    if not _pg_up():
        pytest.skip("PostgreSQL not reachable at 127.0.0.1:5432")
    with pg_store(settings, "cg_thread") as store:
        yield store


def test_parallel_first_escalations_open_one_case(any_store: Store) -> None:
    """Two workers may see a conversation's first escalations at the same moment: still one case, and
    no turn is lost from its timeline."""
    from concurrent.futures import ThreadPoolExecutor
    from datetime import UTC, datetime

    from childguard.store.records import ThreadTurn

    ref = any_store.thread_ref("conversation", "race-1")
    records = [CaseRecord(source="conversation", severity=4, age_band="10-12", lang="en",
                          categories=["grooming_trajectory"], reasons=["r"], excerpt=f"turn {i}", thread_ref=ref,
                          turn=ThreadTurn(turn=i, time=datetime.now(UTC), role="contact", action="escalate"))
               for i in range(1, 9)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = set(pool.map(any_store.save_case, records))
    assert len(ids) == 1
    case = any_store.view(ids.pop(), "max")
    assert sorted(e["turn"] for e in case["timeline"]) == list(range(1, 9))
    assert any_store.verify_audit_log()
