"""Accounts, consent records, reports and aggregated counts on SQLite and the real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from childguard import Guard
from childguard.errors import AuthError, InvalidInputError, NotFoundError
from childguard.reporting import ReportDesk, ReportRequest, normalize_reference
from childguard.store import Store
from childguard.store.accounts import Accounts
from childguard.store.consent import Consents
from childguard.store.stats import DecisionCounter, transparency
from childguard.store.tables import Consent, ConsoleSession, ReviewCase, User
from tests.test_store import store  # noqa: F401  (the SQLite + PostgreSQL fixture)

PASSWORD = "correct horse battery"


def test_passwords_are_argon2_and_failures_lock_the_account(store: Store) -> None:  # noqa: F811
    accounts = Accounts(store, max_failures=3, lockout_minutes=10)
    accounts.add_user("mo", PASSWORD, "moderator")
    with store.sessions() as s:
        hashed = s.scalars(select(User.password_hash)).one()
    assert hashed.startswith("$argon2id$") and PASSWORD not in hashed
    token, info = accounts.login("mo", PASSWORD)
    assert info.role == "moderator" and accounts.session(token) == info
    with store.sessions() as s:  # only the token's hash is stored
        assert token not in {row.token_hash for row in s.scalars(select(ConsoleSession))}
    for _ in range(3):
        with pytest.raises(AuthError):
            accounts.login("mo", "wrong password!!")
    with pytest.raises(AuthError):  # locked now, even with the right password
        accounts.login("mo", PASSWORD)
    with pytest.raises(AuthError, match="wrong username or password"):
        accounts.login("nobody", PASSWORD)
    actions = [e["action"] for e in store.audit_log()]
    assert actions.count("login_failed") == 4 and "login_refused" in actions and store.verify_audit_log()
    accounts.logout(token)
    assert accounts.session(token) is None


def test_account_rules(store: Store) -> None:  # noqa: F811
    accounts = Accounts(store)
    with pytest.raises(InvalidInputError, match="at least 12"):
        accounts.add_user("mo", "short", "moderator")
    with pytest.raises(InvalidInputError, match="role"):
        accounts.add_user("mo", PASSWORD, "root")
    accounts.add_user("mo", PASSWORD, "admin")
    with pytest.raises(InvalidInputError, match="exists"):
        accounts.add_user("mo", PASSWORD, "admin")
    token, _ = accounts.login("mo", PASSWORD)
    accounts.set_disabled("mo", True)
    assert accounts.session(token) is None
    with pytest.raises(AuthError):
        accounts.login("mo", PASSWORD)
    with store.sessions() as s:  # disabling ended the session
        assert s.scalars(select(ConsoleSession)).first() is None
    accounts.set_disabled("mo", False)
    token, _ = accounts.login("mo", PASSWORD)
    with store.sessions.begin() as s:
        s.execute(update(ConsoleSession).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert accounts.session(token) is None and accounts.purge_sessions() == 1


def test_consent_withdrawal_deletes_the_childs_cases(store: Store, guard: Guard) -> None:  # noqa: F811
    consents = Consents(store)
    record = consents.grant("child-42", "signed_form", ["chat", "review_by_humans"], "parent@example.org")
    assert record.status == "granted" and consents.allows("child-42", "chat")
    assert not consents.allows("child-42", "reports") and not consents.allows("child-7", "chat")
    with store.sessions() as s:
        row = s.scalars(select(Consent)).one()
        assert row.profile_ref != "child-42" and b"parent@example.org" not in (row.guardian or b"")
    d = guard.check("i want to kill myself", age=12)
    mine = store.open_case(d, "i want to kill myself", "gateway", profile="child-42")
    reviewed = store.open_case(d, "i want to kill myself", "gateway", profile="child-42")
    referred = store.open_case(d, "i want to kill myself", "gateway", profile="child-42")
    other = store.open_case(d, "i want to kill myself", "gateway", profile="child-7")
    assert mine and reviewed and referred
    store.decide(reviewed, "mo", "false_alarm")
    store.decide(referred, "mo", "referred_authority")
    tombstone, deleted, kept = consents.withdraw("child-42")
    assert (deleted, kept) == (1, 2) and tombstone.status == "withdrawn" and tombstone.withdrawn_at
    with store.sessions() as s:
        ids = set(s.scalars(select(ReviewCase.id)))
        # the open self-harm case and the referral stay for safeguarding, unlinked from the profile
        assert reviewed not in ids and {mine, referred, other} <= ids
        assert s.get(ReviewCase, mine).profile_ref is None  # type: ignore[union-attr]
        assert s.scalars(select(Consent)).one().guardian is None
    assert not consents.allows("child-42", "chat")
    actions = [e["action"] for e in store.audit_log()]
    assert "consent_withdrawn" in actions and "profile_data_deleted" in actions and store.verify_audit_log()
    with pytest.raises(NotFoundError):
        consents.withdraw("never-recorded")
    with pytest.raises(InvalidInputError, match="method"):
        consents.grant("child-1", "telepathy")
    with pytest.raises(InvalidInputError, match="scope"):
        consents.grant("child-1", "signed_form", ["selling_data"])


def test_reports_get_a_code_only_its_hash_is_stored(store: Store, guard: Guard) -> None:  # noqa: F811
    desk = ReportDesk(guard, store)
    receipt = desk.submit(ReportRequest(kind="stranger", message="a man asked me for photos, my number is 07700 900123",
                                        lang="fr", country="FR", contact="maman 06 12 34 56 78", age=10))
    assert normalize_reference(receipt.reference.lower()) == receipt.reference
    assert any(h.country == "FR" for h in receipt.helplines)
    case = store.view(int(receipt.case_id or 0), "tester")
    assert case["source"] == "report" and "grooming" in case["categories"] and case["severity"] >= 4
    assert "07700" not in case["excerpt"] and case["contact"] == "maman 06 12 34 56 78"
    with store.sessions() as s:
        row = s.get(ReviewCase, receipt.case_id)
        assert row is not None and row.reference_hash and receipt.reference not in row.reference_hash
        assert b"maman" not in (row.contact or b"")
    assert desk.status(receipt.reference).status == "received"
    store.decide(int(receipt.case_id or 0), "tester", "referred_helpline")
    assert desk.status(receipt.reference, "fr").message.startswith("Une personne a regardé")
    with pytest.raises(NotFoundError):
        desk.status("AAAA-BBBB-CCCC")
    with pytest.raises(InvalidInputError, match="reference code"):
        desk.status("nope")
    with pytest.raises(InvalidInputError):
        desk.submit(ReportRequest(kind="other", message="  "))
    with pytest.raises(InvalidInputError, match="kind"):
        desk.submit(ReportRequest(kind="aliens", message="hi"))


def test_counts_are_aggregated_suppressed_and_survive_failures(store: Store, guard: Guard) -> None:  # noqa: F811
    counter = DecisionCounter()
    day = date(2026, 11, 20)
    for text in ["hello there"] * 6 + ["i want to kill myself"] * 2:
        counter.count(guard.check(text, age=12), "moderation", today=day)
    assert counter.flush(store) == 8
    counter.count(guard.check("hello there", age=12), "moderation", today=day)
    assert counter.flush(store) == 1  # upsert adds to the existing cell
    report = transparency(store, days=7, min_count=5, today=day)
    assert report["counted"] == 9 and report["by_category"]["none"] == 7
    assert report["by_category"]["self_harm"] == "<5" and report["by_action"]["allow"] == 7
    assert report["by_day"] == {"2026-11-20": 9}
    assert transparency(store, days=7, min_count=1, today=day)["by_category"]["self_harm"] == 2
    assert transparency(store, days=7, today=day + timedelta(days=30))["counted"] == 0
    counter.count(guard.check("hello there", age=12), "moderation", today=day)
    broken = Store.__new__(Store)  # a store whose writes fail: the counts must stay pending
    broken.engine, broken.sessions = store.engine, None  # type: ignore[assignment]
    with pytest.raises(Exception):  # noqa: B017
        counter.flush(broken)
    assert counter.pending() == 1 and counter.flush(store) == 1


def test_review_times_in_the_transparency_report(store: Store, guard: Guard) -> None:  # noqa: F811
    d = guard.check("i want to kill myself", age=12)
    case_id = store.open_case(d, "i want to kill myself", "moderation")
    assert case_id is not None
    with store.sessions.begin() as s:
        s.execute(update(ReviewCase).where(ReviewCase.id == case_id)
                  .values(created_at=datetime.now(UTC) - timedelta(hours=3)))
    store.decide(case_id, "mo", "resolved")
    review = transparency(store, min_count=1)["review"]
    assert review["cases_opened"] == 1 and review["cases_closed"] == 1
    assert 2.9 < review["median_hours_to_decision"] < 3.1 and review["resolutions"] == {"resolved": 1}
