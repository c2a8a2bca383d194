"""Failed sign-ins must not become a way to lock a moderator out (issue 18, item 10; OWASP: throttle,
don't lock): anonymous failures back the account off for the addresses that fail, while the owner's
correct password from an address without failures still works. An address gets that one check; after
its own failure it waits like the others, so the bypass buys a guesser one try per address."""

from __future__ import annotations

from childguard.store import Store
from childguard.store.accounts import Accounts
from tests.test_login_lockout import PASSWORD, _guess
from tests.test_store import store  # noqa: F401


def test_attackers_cannot_lock_the_owner_out(store: Store) -> None:  # noqa: F811
    accounts = Accounts(store, max_failures=5, backoff_s=600, lockout_minutes=15)
    accounts.add_user("bob", PASSWORD)
    for i in range(8):  # 6 anonymous failures locked "bob" for up to 15 minutes on main
        assert not _guess(accounts, "bob", f"wrong password {i}", f"198.51.100.{i % 6}")
    assert not _guess(accounts, "bob", PASSWORD, "198.51.100.1")  # an attacking address still waits
    assert _guess(accounts, "bob", PASSWORD, "203.0.113.7")  # the owner, from an address without failures
    for i in range(3):
        assert not _guess(accounts, "bob", f"wrong again {i}", f"198.51.100.{i % 6}")
    assert _guess(accounts, "bob", PASSWORD, "203.0.113.7")  # and again, while the attack goes on


def test_the_owners_known_browser_gets_in_while_many_addresses_guess(store: Store) -> None:  # noqa: F811
    accounts = Accounts(store, max_failures=5, backoff_s=600, lockout_minutes=15)
    accounts.add_user("kim", PASSWORD)
    accounts.login("kim", PASSWORD, client="203.0.113.1")
    device = accounts.device_token("kim")
    for i in range(12):  # every guess from its own address: 5 checked, 5 allowed as clean, then none
        assert not _guess(accounts, "kim", f"wrong password {i}", f"198.51.100.{i}")
    assert not _guess(accounts, "kim", PASSWORD, "203.0.113.99")  # a fresh address now waits
    token, info = accounts.login("kim", PASSWORD, client="203.0.113.99", device=device)
    assert token and info.username == "kim"
    assert accounts.devices.nonce_if_valid(device, "someone-else") is None  # bound to its account


def test_a_fresh_address_gets_one_check_then_waits(store: Store) -> None:  # noqa: F811
    accounts = Accounts(store, max_failures=3, backoff_s=600, lockout_minutes=15)
    accounts.add_user("eve", PASSWORD)
    for i in range(4):
        assert not _guess(accounts, "eve", f"wrong password {i}", "192.0.2.9")
    assert not _guess(accounts, "eve", "another wrong one", "192.0.2.50")  # checked, and failed
    assert not _guess(accounts, "eve", PASSWORD, "192.0.2.50")  # now it waits like the others
