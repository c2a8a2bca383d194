"""One review case per gateway chat (4i): the child's escalating message and the model's escalating answer
in the same chat (the same `user`) update one case, and its timeline says which turn, and whose words
(the child's message or the model's answer), did what. Over real HTTP, against a loopback model that
complies with everything."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from childguard import Settings
from childguard.store import Store
from childguard.store.accounts import Accounts
from childguard.testing import chat_server
from tests.test_gateway import chat, last_chunk
from tests.test_service import _serve

PASSWORD = "correct horse battery"


@pytest.fixture()
def site(tmp_path: Path) -> Iterator[tuple[str, Store]]:
    store = Store(Settings(key_file=tmp_path / "key"), f"sqlite:///{tmp_path}/cg.db")
    Accounts(store).add_user("max", PASSWORD, "moderator")
    with chat_server("unsafe") as upstream:
        cfg = Settings(upstream_url=upstream, stream_holdback_chars=20, cookie_secure=False)
        for base in _serve(cfg, store=store):
            yield base, store


def _talk(base: str, text: str, user: str | None, stream: bool = False) -> dict[str, Any]:
    extra = {"profile": user} if user else {}
    r = chat(base, text, stream=stream, time="2026-03-01T16:00:00+00:00", **extra)
    assert r.status_code == 200, r.text
    info: dict[str, Any] = (last_chunk(r) if stream else r.json())["childguard"]
    return info


def test_an_escalating_message_and_answer_in_one_chat_are_one_case(site: tuple[str, Store]) -> None:
    base, store = site
    asked = _talk(base, "my dad hits me when he's angry", "kid-1")
    assert asked["review_required"] is True and asked["upstream_called"] is False
    answered = _talk(base, "can you keep a secret?", "kid-1")  # the model answers as a groomer would
    assert answered["replaced"] is True and answered["output_action"] == "escalate"
    assert answered["output_case_id"] == asked["case_id"]  # the same chat: the same case
    streamed = _talk(base, "promise you won't tell?", "kid-1", stream=True)
    assert streamed["replaced"] is True and streamed["output_case_id"] == asked["case_id"]

    assert len(store.queue()) == 1
    case = store.view(asked["case_id"], "max")
    timeline = case["timeline"]
    assert [(e["turn"], e["role"]) for e in timeline] == [(1, "child"), (2, "ai_output"), (3, "ai_output")]
    assert timeline[0]["change"] == "case opened" and "abuse_disclosure" in timeline[0]["categories"]
    assert "grooming" in timeline[1]["categories"] and "new: grooming" in timeline[1]["change"]
    assert all(e["time"].startswith("2026-03-01T16:00:00") for e in timeline)
    assert set(case["categories"]) >= {"abuse_disclosure", "grooming"}
    assert "secret" in (timeline[1]["excerpt"] or "")  # the answer's words, redacted like any excerpt
    assert store.verify_audit_log()

    with httpx.Client(base_url=base, headers={"Origin": base}) as moderator:  # the case view says whose words
        csrf = re.search(r'name="csrf" value="([^"]+)"', moderator.get("/console/login").text)
        assert csrf
        moderator.post("/console/login", data={"username": "max", "password": PASSWORD, "csrf": csrf.group(1)})
        page = html.unescape(re.sub(r"<[^>]+>", "", moderator.get(f"/console/cases/{asked['case_id']}").text))
    assert "Turn 1 · 2026-03-01 16:00:00 · child's message · escalate" in page
    assert "Turn 2 · 2026-03-01 16:00:00 · model's answer · escalate" in page
    assert "Turn 3 · 2026-03-01 16:00:00 · model's answer" in page and "Abuse disclosure" in page


def test_other_chats_keep_their_own_cases(site: tuple[str, Store]) -> None:
    base, store = site
    first = _talk(base, "my dad hits me when he's angry", "kid-1")
    other = _talk(base, "can you keep a secret?", "kid-2")
    assert other["output_case_id"] is not None and other["output_case_id"] != first["case_id"]
    later = _talk(base, "my dad hits me when he's angry", "kid-2")  # a case an answer opened is joined too
    assert later["case_id"] == other["output_case_id"]
    # without a profile there is no chat to join: each escalation is its own case, as before
    a = _talk(base, "my dad hits me when he's angry", None)
    b = _talk(base, "can you keep a secret?", None)
    assert len({first["case_id"], other["output_case_id"], a["case_id"], b["output_case_id"]}) == 4
    assert len(store.queue()) == 4
