"""Escalations and children's reports survive a database outage, for real: PostgreSQL behind a TCP
proxy that is stalled (a hung database) and then stopped (connections refused) in the middle of a load
of escalations (moderation and conversation messages) and reports. Every one the API acknowledged is
in the store afterwards, exactly once; the children got their safe answer and helplines throughout;
/readyz said which store was down. (The shared PostgreSQL itself is never touched: only the proxy in
front of it goes down.)"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, func, select, text

from childguard import Guard, Settings
from childguard.service import create_app
from childguard.store import Store
from childguard.store.tables import ReviewCase
from childguard.testing import TcpProxy
from tests.test_store import PG, _pg_up

pytestmark = pytest.mark.skipif(not _pg_up(), reason="PostgreSQL not reachable at 127.0.0.1:5432")

ESCALATING = {"input": "i want to kill myself tonight", "age": 13, "country": "GB"}
CHAT = {"sender": "kid", "role": "child", "text": "i want to kill myself tonight", "age": 13}
REPORT = {"kind": "stranger", "message": "a man online asked me for photos", "age": 11, "country": "GB"}


@pytest.fixture
def schema() -> Iterator[str]:
    name = f"cg_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG)
    with admin.begin() as c:
        c.execute(text(f"create schema {name}"))
    try:
        yield name
    finally:
        with admin.begin() as c:
            c.execute(text(f"drop schema {name} cascade"))
        admin.dispose()


async def _load(client: httpx.AsyncClient, n: int) -> list[httpx.Response]:
    """n escalating moderation requests, n reports and n/5 escalating conversation messages, 12 at a time."""
    out: list[httpx.Response] = []
    for i in range(0, n, 5):
        batch = [client.post("/v1/moderations", json=ESCALATING) for _ in range(min(5, n - i))]
        batch += [client.post("/v1/reports", json=REPORT) for _ in range(min(5, n - i))]
        # changed (issue 20): a conversation is one case, so each message here has a conversation of its own
        # and every acknowledged escalation is still one case to count
        batch += [client.post("/v1/conversations/messages", json={**CHAT, "conversation": f"c{i}-{uuid.uuid4().hex}"})]
        out += await asyncio.gather(*batch)
    return out


def _acknowledged(responses: list[httpx.Response]) -> tuple[int, dict[str, int]]:
    """Cases the API said it recorded, and how ("stored" / "spooled")."""
    how: dict[str, int] = {}
    for r in responses:
        assert r.status_code in (200, 201), r.text
        body = r.json()
        decision = body["results"][0] if "results" in body else body
        recorded = decision["recorded"]
        # the child's answer never depends on the database: the safe decision with helplines
        decided = decision.get("childguard") or decision.get("message_decision") or {}
        assert decided.get("resources") or body.get("helplines")
        how[recorded] = how.get(recorded, 0) + 1
    return sum(how.values()), how


def test_no_escalation_or_report_is_lost_when_the_database_goes_away(schema: str, tmp_path: Path,
                                                                      guard: Guard) -> None:
    proxy = TcpProxy("127.0.0.1", 5432).start()
    url = f"postgresql+psycopg://postgres@127.0.0.1:{proxy.port}/test?options=-csearch_path%3D{schema}"
    cfg = Settings(database_url=url, key_file=tmp_path / "key", spool_file=tmp_path / "spool.log",
                   store_timeout_s=0.5, rate_limit_per_minute=10**7, rate_limit_burst=10**6, report_burst=10**6)
    store = Store(cfg)
    app = create_app(cfg, guard=guard, store=store)
    recorder = app.state.services.recorder

    async def scenario() -> dict[str, Any]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cg",
                                     timeout=30) as client:
            acked = await _load(client, 10)                      # healthy: stored
            proxy.stall()                                        # hung database
            t0 = time.perf_counter()
            ready = await client.get("/readyz")
            ready_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            stalled = await _load(client, 20)
            stalled_s = time.perf_counter() - t0
            page = await client.post("/report", data={"kind": "bullying", "message": "they laugh at me",
                                                        "lang": "en", "country": "GB"})
            health = await client.get("/healthz")
            proxy.resume()                                       # the hung calls now finish, and commit
            await asyncio.sleep(1.0)
            await recorder.replay()
            proxy.stop()                                         # database refused
            refused = await _load(client, 20)
            ready_refused = await client.get("/readyz")
            lookup = await client.get("/v1/reports/ABCD-EFGH-JKMN")  # a read cannot be spooled: 503, kindly
            proxy.start()
            for _ in range(50):
                await recorder.replay()
                if not recorder.spool.pending():
                    break
                await asyncio.sleep(0.2)
            return {"acked": acked + stalled + refused, "stalled": stalled, "ready": ready, "ready_s": ready_s,
                    "stalled_s": stalled_s, "page": page, "health": health, "ready_refused": ready_refused,
                    "lookup": lookup,
                    "ready_after": await client.get("/readyz")}

    try:
        got = asyncio.run(scenario())
        acked, how = _acknowledged(got["acked"])
        assert how.get("spooled", 0) >= 20 and how.get("stored", 0) >= 10  # both paths were taken
        assert all(r.json().get("recorded", "spooled") == "spooled" or "results" in r.json() for r in got["stalled"])
        # a hung database costs the child at most the store timeout, never a hang
        assert got["stalled_s"] < 20
        assert got["ready"].status_code == 503 and got["ready"].json()["stores"]["database"].startswith("down")
        assert got["ready_s"] < 1.2 and "database" in got["ready"].json()["error"]["message"]
        assert got["ready_refused"].status_code == 503
        assert got["lookup"].status_code == 503 and got["lookup"].headers["retry-after"]
        assert "safe" in got["lookup"].json()["error"]["message"]
        assert got["health"].status_code == 200
        assert got["page"].status_code == 200 and "Childline" in got["page"].text  # helplines, DB or not
        assert got["ready_after"].status_code == 200, got["ready_after"].text
        assert not recorder.spool.pending()
        with store.sessions() as s:
            cases = s.scalar(select(func.count()).select_from(ReviewCase))
            keys = s.scalar(select(func.count(func.distinct(ReviewCase.case_key))))
        assert cases == acked + 1 == keys  # + the report sent through the page: none lost, none twice
    finally:
        proxy.close()
        store.engine.dispose()
