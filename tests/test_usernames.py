"""Moderator names are unique after case folding and look-alike mapping (issue 18, item 11): the audit
log and the console name one person per name."""

from __future__ import annotations

import pytest

from childguard.errors import InvalidInputError
from childguard.store import Store
from childguard.store.accounts import Accounts
from childguard.store.usernames import skeleton
from tests.test_login_lockout import PASSWORD
from tests.test_store import store  # noqa: F401


def test_look_alike_admins_are_refused(store: Store) -> None:  # noqa: F811
    accounts = Accounts(store)
    accounts.add_user("alice", PASSWORD, "admin")
    for twin in ("Alice", "ALICE", "aIice", "alice.", "a1ice", "al-ice", "alice_"):
        with pytest.raises(InvalidInputError, match="looks like the existing user 'alice'"):
            accounts.add_user(twin, PASSWORD, "admin")
    accounts.add_user("alicia", PASSWORD)
    accounts.add_user("bob.smith", PASSWORD)
    with pytest.raises(InvalidInputError, match=r"bob\.smith"):
        accounts.add_user("Bob_Smith", PASSWORD)
    assert [u["username"] for u in accounts.list_users()] == ["alice", "alicia", "bob.smith"]


def test_skeleton_folds_what_a_reader_cannot_tell_apart() -> None:
    assert skeleton("aIice") == skeleton("alice") == skeleton("ALICE.") == skeleton("a1ice")
    assert skeleton("modern") == skeleton("modem")  # rn / m
    assert skeleton("alice") != skeleton("alicia")
