"""The one check every write linked to a child profile makes inside its own transaction: has consent
been withdrawn? Withdrawal deletes the profile's cases and tokens; a request that was in flight (or a
spooled case replayed later) must not bring them back, or `complete: true` would be false. The consent
row is read FOR UPDATE, so on PostgreSQL a write and a withdrawal of the same profile are serialised
(the withdrawal's UPDATE holds that row lock until its deletes commit); SQLite serialises all writers."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .tables import Consent


def consent_withdrawn(s: Session, profile_ref: str | None) -> bool:
    """True when the profile has a consent record that was withdrawn; False for no profile or no record
    (consent is then not required of this deployment, or checked earlier by `require_consent`)."""
    if profile_ref is None:
        return False
    status = s.scalars(select(Consent.status).where(Consent.profile_ref == profile_ref).with_for_update()).first()
    return status == "withdrawn"
