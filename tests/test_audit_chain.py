"""The audit log's hash chain under concurrent writers, on SQLite and on the real PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from childguard.store import Store
from childguard.store.accounts import Accounts
from childguard.store.tables import AuditEntry
from tests.test_store import store  # noqa: F401  (the SQLite + PostgreSQL fixture)

WRITES = 300


def test_parallel_appends_neither_fork_nor_lose_entries(store: Store) -> None:  # noqa: F811
    before = len(store.audit_log())
    # identical entries in the same second: the payloads that collided (UNIQUE hash) or forked before
    with ThreadPoolExecutor(max_workers=32) as pool:
        list(pool.map(lambda i: store.audit("anonymous", "login_failed", "unknown user"), range(WRITES)))
    log = store.audit_log()
    assert len(log) == before + WRITES
    assert store.verify_audit_log()  # the admin audit page's check
    with store.sessions() as s:
        prevs = [e.prev_hash for e in s.query(AuditEntry).all()]
    assert len(prevs) == len(set(prevs))  # no two entries hang off the same head


def test_parallel_failed_sign_ins_keep_the_chain_intact(store: Store) -> None:  # noqa: F811
    accounts = Accounts(store)
    accounts.add_user("mod-one", "a long password 1")
    accounts.add_user("mod-two", "a long password 2")
    from childguard.errors import AuthError

    def attempt(i: int) -> bool:
        try:
            accounts.login(("mod-one", "mod-two")[i % 2], "wrong password!", client=f"198.51.100.{i % 200}")
        except AuthError:
            return False
        return True

    with ThreadPoolExecutor(max_workers=20) as pool:
        assert not any(pool.map(attempt, range(40)))
    assert store.verify_audit_log()
    assert sum(e["action"].startswith("login_") for e in store.audit_log()) == 40
