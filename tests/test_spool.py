"""The spool of escalations and reports: encrypted and private at rest, replayed in order, idempotent,
and nothing dropped when the store fails again half-way or a line is unreadable."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import func, select

from childguard import Guard, Settings
from childguard.store import Store
from childguard.store.crypto import Box
from childguard.store.records import CaseRecord
from childguard.store.spool import Spool
from childguard.store.tables import ReviewCase


def _case(i: int) -> CaseRecord:
    return CaseRecord(source="moderation", severity=4, age_band="10-12", lang="en", categories=["self_harm"],
                      reasons=["r"], excerpt=f"secret words number {i}", contact=f"mum {i}")


def test_spooled_cases_are_sealed_private_and_replayed_in_order(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.log", Box(b"k" * 32))
    cases = [_case(i) for i in range(5)]
    for c in cases:
        spool.append(c)
    raw = (tmp_path / "spool.log").read_bytes()
    assert b"secret" not in raw and b"mum" not in raw and b"self_harm" not in raw
    assert stat.S_IMODE((tmp_path / "spool.log").stat().st_mode) == 0o600
    assert spool.pending()
    seen: list[CaseRecord] = []
    assert spool.replay(seen.append) == 5
    assert seen == cases and not spool.pending()


def test_a_replay_that_fails_keeps_everything_for_the_next_one(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.log", Box(b"k" * 32))
    for i in range(4):
        spool.append(_case(i))
    seen: list[str] = []

    def flaky(c: CaseRecord) -> None:
        if len(seen) == 2:
            seen.append("fail")
            raise OSError("database went away again")
        seen.append(c.key)

    with pytest.raises(OSError):
        spool.replay(flaky)
    spool.append(_case(9))  # written while the first replay file waits
    assert spool.pending()
    again: list[CaseRecord] = []
    assert spool.replay(again.append) == 5
    assert [c.excerpt for c in again] == [f"secret words number {i}" for i in (0, 1, 2, 3, 9)]


def test_unreadable_lines_are_set_aside_not_dropped(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.log", Box(b"k" * 32))
    spool.append(_case(1))
    with (tmp_path / "spool.log").open("ab") as fh:
        fh.write(b"torn-write-without-newl")
    seen: list[CaseRecord] = []
    assert spool.replay(seen.append) == 1
    assert (tmp_path / "spool.log.rejected").read_bytes().strip() == b"torn-write-without-newl"


def test_replaying_the_same_case_twice_stores_it_once(tmp_path: Path, guard: Guard) -> None:
    store = Store(Settings(key_file=tmp_path / "key"), f"sqlite:///{tmp_path}/cg.db")
    case = store.case_record(guard.check("i want to kill myself", age=13), "i want to kill myself", "moderation")
    assert case is not None
    first = store.save_case(case)
    assert store.save_case(case) == first
    with store.sessions() as s:
        assert s.scalar(select(func.count()).select_from(ReviewCase)) == 1
    actions = [e["action"] for e in store.audit_log()]
    assert actions.count("case_opened") == 1 and store.verify_audit_log()
