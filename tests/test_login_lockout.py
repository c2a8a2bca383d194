"""Sign-in under attack: parallel guesses, password spraying from one address, back-off instead of a
hard lock, and timing that does not reveal which names exist (SQLite and PostgreSQL)."""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from childguard import Settings
from childguard.errors import AuthError
from childguard.store import Store
from childguard.store.accounts import Accounts
from childguard.store.backoff import Backoff
from childguard.store.tables import User
from tests.test_service import _serve
from tests.test_store import store  # noqa: F401  (the SQLite + PostgreSQL fixture)

PASSWORD = "correct horse battery"


def _guess(accounts: Accounts, name: str, password: str, client: str) -> bool:
    try:
        accounts.login(name, password, client=client)
    except AuthError:
        return False
    return True


def _checked(store: Store, name: str) -> int:  # noqa: F811
    """Passwords actually verified for `name` (each wrong one leaves a login_failed entry)."""
    return sum(e["action"] == "login_failed" and e["actor"] == name for e in store.audit_log())


def test_parallel_guesses_on_one_account_hit_the_back_off(store: Store) -> None:  # noqa: F811
    accounts = Accounts(store, max_failures=5, lockout_minutes=60, backoff_s=1800)
    accounts.add_user("mo", PASSWORD)
    with ThreadPoolExecutor(max_workers=25) as pool:  # every guess from its own address
        results = list(pool.map(lambda i: _guess(accounts, "mo", f"wrong guess {i:03d}", f"203.0.113.{i}"),
                                range(50)))
    assert not any(results)
    # the other 40 were refused without looking at the password (5 more were checked as addresses without
    # failures: issue 18, throttle don't lock; that allowance is 5 per back-off cap per account)
    assert _checked(store, "mo") == 10
    assert not _guess(accounts, "mo", PASSWORD, "192.0.2.77")  # right password, still backed off
    assert store.verify_audit_log()


def test_one_address_spraying_many_names_is_backed_off(store: Store) -> None:  # noqa: F811
    accounts = Accounts(store, max_failures=5, lockout_minutes=60, backoff_s=1800)
    accounts.add_user("ada", PASSWORD)
    with ThreadPoolExecutor(max_workers=25) as pool:
        assert not any(pool.map(lambda i: _guess(accounts, f"user{i}", "guess guess guess", "198.51.100.9"),
                                range(50)))
    assert not _guess(accounts, "ada", PASSWORD, "198.51.100.9")  # this address waits
    assert _guess(accounts, "ada", PASSWORD, "198.51.100.10")  # the account itself was never guessed


def test_back_off_grows_and_then_lets_the_owner_in(store: Store) -> None:  # noqa: F811
    accounts = Accounts(store, max_failures=3, backoff_s=3.0)
    accounts.add_user("mo", PASSWORD)

    def fail(client: str) -> float:
        """One wrong password; the wait it set, from just before the attempt (so a slow machine's
        argon2 time is not counted against the back-off); 0 when it set none."""
        before = datetime.now(UTC)
        assert not _guess(accounts, "mo", "wrong password!!", client)
        until = _locked_until(store)
        return 0.0 if until is None else (until - before).total_seconds()

    assert fail("192.0.2.1") == fail("192.0.2.1") == 0.0  # the first failures cost nothing
    first = fail("192.0.2.1")
    assert 2.9 <= first < 4.5
    # the right password waits too from an address that failed; one that did not gets in (issue 18:
    # throttle, don't lock; tests/test_lockout_weapon.py)
    assert not _guess(accounts, "mo", PASSWORD, "192.0.2.1")
    _sleep_until(_locked_until(store))
    second = fail("192.0.2.3")
    assert 5.9 <= second < 7.5  # doubled
    assert not _guess(accounts, "mo", PASSWORD, "192.0.2.3")
    _sleep_until(_locked_until(store))
    assert _guess(accounts, "mo", PASSWORD, "192.0.2.5")  # no hard 15-minute lock


def _locked_until(store: Store) -> datetime | None:  # noqa: F811
    with store.sessions() as s:
        until = s.scalars(select(User.locked_until).where(User.username == "mo")).one()
    return until if until is None or until.tzinfo else until.replace(tzinfo=UTC)


def _sleep_until(when: datetime | None) -> None:
    assert when is not None
    time.sleep(max(0.0, (when - datetime.now(UTC)).total_seconds()) + 0.1)


def test_back_off_schedule() -> None:
    b = Backoff(free=5, first_s=30, cap_s=900)
    assert [b.delay(n) for n in (1, 4, 5, 6, 7, 10, 50)] == [0, 0, 30, 60, 120, 900, 900]


def test_unknown_and_known_names_take_the_same_time(store: Store) -> None:  # noqa: F811
    accounts = Accounts(store, max_failures=2, lockout_minutes=60, backoff_s=1800)
    accounts.add_user("real-mod", PASSWORD)
    for i in range(3):  # real-mod is backed off now: the fast path the timing used to reveal
        _guess(accounts, "real-mod", "wrong password!!", f"192.0.2.{i}")

    def timed(name: str, i: int) -> float:
        start = time.perf_counter()
        _guess(accounts, name, "wrong password!!", f"10.9.{i}.1")
        return time.perf_counter() - start

    known = statistics.median(timed("real-mod", i) for i in range(7))
    unknown = statistics.median(timed(f"ghost-{i}", 100 + i) for i in range(7))
    assert 0.5 < known / unknown < 2.0, (known, unknown)


@pytest.mark.parametrize("bad", ["", "x" * 5000, "\udcff"])
def test_odd_names_are_refused_not_crashed(store: Store, bad: str) -> None:  # noqa: F811
    with pytest.raises(AuthError):
        Accounts(store).login(bad, bad, client="192.0.2.200")


def test_parallel_sign_ins_over_http_keep_the_chain_and_the_back_off(tmp_path: Path) -> None:
    """The red team's run: parallel POST /console/login with wrong passwords, then the right one."""
    # a long first wait: on a loaded machine the parallel run may take longer than the default 30 s
    cfg = Settings(key_file=tmp_path / "key", database_url=f"sqlite:///{tmp_path}/cg.db", login_backoff_s=1800,
                   lockout_minutes=60)
    db = Store(cfg)
    accounts = Accounts(db)
    accounts.add_user("mod-a", PASSWORD)
    accounts.add_user("mod-b", PASSWORD)
    for url in _serve(cfg, store=db):
        with httpx.Client(base_url=url, timeout=300) as c:  # 20 argon2 verifies at once on 2 cores
            c.get("/console/login")
            csrf = c.cookies["cg_login_csrf"]

            def post(i: int, csrf: str = csrf) -> int:
                form = {"username": ("mod-a", "mod-b")[i % 2], "password": f"wrong guess {i:03d}", "csrf": csrf}
                return c.post("/console/login", data=form).status_code

            with ThreadPoolExecutor(max_workers=20) as pool:
                codes = list(pool.map(post, range(40)))
            assert codes == [401] * 40  # no 500, no lost audit entry
            right = c.post("/console/login", data={"username": "mod-a", "password": PASSWORD, "csrf": csrf})
            assert right.status_code == 401  # still backed off
    assert db.verify_audit_log()
    assert sum(e["action"] in ("login_failed", "login_refused") for e in db.audit_log()) == 41
