"""Parental-consent records per child profile (5b; COPPA, GDPR art. 8, AADC standard 7).

A service that needs verifiable parental consent records it here before the child uses the product;
withdrawal deletes what childguard holds about the child (review cases, conversation state) and keeps a
tombstone that says when and how consent ended, so an auditor can see that it was honoured. Cases that
safeguarding needs (referred to an authority, or open and of the most serious harms) are unlinked from
the profile instead and follow the normal retention: the adult withdrawing may be the one a case is about."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select

from ..errors import InvalidInputError, NotFoundError
from .store import Store, _utc
from .tables import Consent, ContestToken

SCOPES = ("chat", "moderation", "conversation_monitoring", "review_by_humans", "reports")
METHODS = ("signed_form", "card_check", "id_check", "video_call", "email_plus", "in_person", "other")


@dataclass(frozen=True)
class ConsentRecord:
    status: str
    scope: list[str]
    method: str
    granted_at: str
    withdrawn_at: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "scope": self.scope, "method": self.method, "granted_at": self.granted_at,
                "withdrawn_at": self.withdrawn_at}


@dataclass(frozen=True)
class Withdrawal:
    record: ConsentRecord
    cases_deleted: int
    cases_kept: int
    tokens_deleted: int


def _record(row: Consent) -> ConsentRecord:
    return ConsentRecord(row.status, list(row.scope), row.method, _utc(row.granted_at).isoformat(),
                         _utc(row.withdrawn_at).isoformat() if row.withdrawn_at else None)


class Consents:
    def __init__(self, store: Store) -> None:
        self.store = store

    def grant(self, profile_id: str, method: str, scope: list[str] | None = None, guardian_contact: str | None = None,
              actor: str = "api") -> ConsentRecord:
        if method not in METHODS:
            raise InvalidInputError(f"method must be one of {', '.join(METHODS)} (how the parent was verified)")
        scope = list(scope or SCOPES)
        unknown = sorted(set(scope) - set(SCOPES))
        if unknown:
            raise InvalidInputError(f"unknown scope {unknown}; choose from {', '.join(SCOPES)}")
        if guardian_contact is not None and len(guardian_contact) > 300:
            raise InvalidInputError("guardian_contact: at most 300 characters")
        ref = self.store.profile_ref(profile_id)
        now = datetime.now(UTC)
        sealed = self.store.box.seal(guardian_contact, b"consent") if guardian_contact else None
        with self.store.sessions.begin() as s:
            row = s.scalars(select(Consent).where(Consent.profile_ref == ref)).first()
            if row is None:
                row = Consent(profile_ref=ref, status="granted", guardian=sealed, scope=scope, method=method,
                              granted_at=now)
                s.add(row)
            else:  # consent given again after a withdrawal, or its scope changed
                row.status, row.guardian, row.scope, row.method = "granted", sealed, scope, method
                row.granted_at, row.withdrawn_at = now, None
            self.store.audit_event(s, actor, "consent_granted", None, f"{ref[:12]} {method} {','.join(scope)}")
            s.flush()
            return _record(row)

    def status(self, profile_id: str) -> ConsentRecord | None:
        ref = self.store.profile_ref(profile_id)
        with self.store.sessions() as s:
            row = s.scalars(select(Consent).where(Consent.profile_ref == ref)).first()
            return _record(row) if row else None

    def allows(self, profile_id: str, purpose: str) -> bool:
        record = self.status(profile_id)
        return record is not None and record.status == "granted" and purpose in record.scope

    def withdraw(self, profile_id: str, actor: str = "api") -> tuple[ConsentRecord, int, int]:
        """Return the tombstone, the number of review cases deleted and the number kept for safeguarding
        (see `Store.delete_profile`); `withdraw_all` also counts the contest tokens."""
        done = self.withdraw_all(profile_id, actor)
        return done.record, done.cases_deleted, done.cases_kept

    def withdraw_all(self, profile_id: str, actor: str = "api") -> Withdrawal:
        """One transaction: the consent never reads withdrawn while the cases or the contest tokens are
        still there, and a token issued a moment before is deleted with the rest (writes after it see
        the tombstone: store/withdrawn.py). Safe to repeat: a second withdrawal finds nothing more."""
        ref = self.store.profile_ref(profile_id)
        with self.store.sessions.begin() as s:
            row = s.scalars(select(Consent).where(Consent.profile_ref == ref).with_for_update()).first()
            if row is None:
                raise NotFoundError("no consent is recorded for this profile")
            if row.status != "withdrawn":
                row.status, row.guardian, row.withdrawn_at = "withdrawn", None, datetime.now(UTC)
            s.flush()  # the tombstone (and its row lock) first: writes racing with us now wait, then see it
            self.store.audit_event(s, actor, "consent_withdrawn", None, ref[:12])
            deleted, kept = self.store._delete_profile(s, ref, actor)
            tokens = s.execute(delete(ContestToken).where(ContestToken.profile_ref == ref))
            s.flush()
            return Withdrawal(_record(row), deleted, kept, int(getattr(tokens, "rowcount", 0) or 0))
