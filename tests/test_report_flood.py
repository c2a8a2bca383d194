"""A flood of anonymous reports must not bury a real escalation (issue 18, item 12): per-address
limits that never refuse a first report (the refusal still carries helplines), identical reports folded
into one queue item, and a queue that keeps model-escalated and distinct cases on top."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from childguard import Guard
from childguard.reporting import ReportDesk, ReportRequest
from childguard.settings import Settings
from childguard.store import Store
from tests.test_service import _serve

FLOOD = {"kind": "hurt_myself", "message": "i want to hurt myself", "age": 6, "country": "GB"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _serve(Settings(rate_limit_per_minute=10**6, rate_limit_burst=10**6, report_burst=3,
                               report_per_hour=1))


def test_an_address_past_its_budget_gets_helplines_and_a_first_report_always_goes(served: str) -> None:
    codes = [httpx.post(f"{served}/v1/reports", json=FLOOD).status_code for _ in range(5)]
    assert codes[:3] == [201, 201, 201] and codes[3:] == [429, 429]
    refused = httpx.post(f"{served}/v1/reports", json=FLOOD)
    body = refused.json()
    assert body["error"]["code"] == "too_many_reports" and body["helplines"]
    assert int(refused.headers["retry-after"]) > 0
    page = httpx.post(f"{served}/report", data={"kind": "bullying", "message": "they are mean", "lang": "en"})
    assert page.status_code == 429 and "several reports" in page.text and "helplines/" in page.text


def test_identical_reports_fold_and_real_escalations_stay_on_top(tmp_path: Path) -> None:
    settings = Settings(key_file=tmp_path / "key")
    store = Store(settings, f"sqlite:///{tmp_path}/cg.db")
    guard = Guard(settings)
    desk = ReportDesk(guard, store)
    for i in range(40):  # the script's copies, with case and spacing varied
        desk.submit(ReportRequest(kind="hurt_myself", message="I want to  hurt MYSELF" if i % 2 else FLOOD["message"],
                                  age=6))
    distinct = desk.submit(ReportRequest(kind="hurt_by_someone", message="my uncle hits me", age=13)).case_id
    escalation = store.open_case(guard.check("send me a pic of you naked, dont tell your mum", age=13,
                                             role="contact"), "send me a pic...", "moderation")
    queue = store.queue()
    assert len(queue) == 3  # 40 copies are one line
    assert {queue[0]["id"], queue[1]["id"]} == {distinct, escalation}
    assert queue[2]["folded"] == 40 and queue[2]["source"] == "report"
    assert all(item["folded"] == 1 for item in queue[:2])
