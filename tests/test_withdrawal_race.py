"""After a parent withdraws consent nothing new is stored for the profile (issue 18, item 9): requests
still in flight, spooled cases replayed later and contests of old tokens must not bring cases or tokens
back, or the withdrawal's `complete: true` would be false. SQLite and the real PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from childguard import Guard
from childguard.service import create_app
from childguard.settings import Settings
from childguard.store import Store
from childguard.store.consent import Consents
from childguard.store.contests import Contests
from childguard.store.records import CaseRecord
from childguard.store.tables import ContestToken, ReviewCase
from tests.test_store import guard, store  # noqa: F401  (the SQLite + PostgreSQL fixture)

BLOCKED = "where can i watch porn? call me on 07700 900123"


def _record(store: Store, profile: str, severity: int) -> CaseRecord:  # noqa: F811
    return CaseRecord(source="moderation", severity=severity, age_band="10-12", lang="en", categories=["bullying"],
                      reasons=["test"], excerpt="someone said mean things", profile_ref=store.profile_ref(profile))


def _linked(store: Store, profile: str) -> tuple[int, int]:  # noqa: F811
    ref = store.profile_ref(profile)
    with store.sessions() as s:
        cases = s.scalar(select(func.count()).select_from(ReviewCase).where(ReviewCase.profile_ref == ref))
        tokens = s.scalar(select(func.count()).select_from(ContestToken).where(ContestToken.profile_ref == ref))
    return int(cases or 0), int(tokens or 0)


def test_nothing_new_is_stored_for_a_withdrawn_profile(store: Store, guard: Guard) -> None:  # noqa: F811
    consents, contests = Consents(store), Contests(store)
    consents.grant("kid-1", "signed_form")
    spooled = _record(store, "kid-1", 2)  # built while consent held, written after withdrawal (spool replay)
    old_token = contests.issue(guard.check(BLOCKED, age=11), BLOCKED, "moderation", profile="kid-1")
    assert old_token
    consents.withdraw("kid-1")
    assert store.save_case(spooled) is None
    assert store.save_case(_record(store, "kid-1", 2)) is None
    assert contests.issue(guard.check(BLOCKED, age=11), BLOCKED, "moderation", profile="kid-1") is None
    serious = store.save_case(_record(store, "kid-1", 4))  # safeguarding keeps it, as withdrawal would
    assert serious is not None
    with store.sessions() as s:
        assert s.get(ReviewCase, serious).profile_ref is None  # type: ignore[union-attr]
    assert _linked(store, "kid-1") == (0, 0)
    # a profile that never recorded consent, and one that still holds it, are unaffected
    consents.grant("kid-2", "signed_form")
    assert store.save_case(_record(store, "kid-2", 2)) and store.save_case(_record(store, "kid-3", 2))
    assert "case_dropped_consent_withdrawn" in [e["action"] for e in store.audit_log()]


def test_writes_in_flight_during_withdrawal_leave_nothing_linked(store: Store, guard: Guard) -> None:  # noqa: F811
    consents, contests = Consents(store), Contests(store)
    consents.grant("kid-9", "signed_form")
    blocked = guard.check(BLOCKED, age=11)
    stop = threading.Event()
    written = [0]

    def child_traffic() -> None:
        while not stop.is_set():
            try:
                store.save_case(_record(store, "kid-9", 2))
                contests.issue(blocked, BLOCKED, "moderation", profile="kid-9")
                written[0] += 1
            except Exception:  # SQLite may answer "database is locked" under this load
                time.sleep(0.01)

    threads = [threading.Thread(target=child_traffic) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.4)
    consents.withdraw("kid-9")
    time.sleep(0.4)  # requests keep arriving after the withdrawal answered
    stop.set()
    for t in threads:
        t.join(timeout=10)
    assert written[0] > 0
    assert _linked(store, "kid-9") == (0, 0)


def test_a_withdrawn_profiles_conversation_is_judged_but_not_kept(tmp_path: Path) -> None:
    cfg = Settings(database_url=f"sqlite:///{tmp_path}/cg.db", key_file=tmp_path / "key",
                   spool_file=tmp_path / "spool.log")
    app = create_app(cfg)
    services = app.state.services

    async def run() -> tuple[int, dict[str, Any]]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cg") as client:
            await client.post("/v1/consents", json={"profile_id": "kid-5", "method": "signed_form"})
            await client.post("/v1/consents/kid-5/withdraw", json={})
            r = await client.post("/v1/conversations/messages", json={
                "conversation": "talk-1", "profile": "kid-5", "sender": "kid", "role": "child",
                "text": "i want to kill myself", "age": 12})
            return r.status_code, r.json()

    status, body = asyncio.run(run())
    assert status == 200 and body["message_decision"]["resources"]  # the safe answer and helplines
    assert services.conversations.store.load("talk-1") is None  # nothing about the conversation kept
    assert _linked(services.store, "kid-5") == (0, 0)
