"""SQLAlchemy 2 models. Only what human oversight needs is kept: review cases for escalations and
children's reports (never allowed messages), their redacted and encrypted excerpt, an append-only audit
log, moderator accounts and sessions, parental-consent records, and aggregated decision counts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class ReviewCase(Base):
    __tablename__ = "review_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    source: Mapped[str] = mapped_column(String(32))  # moderation | gateway | conversation
    severity: Mapped[int] = mapped_column(Integer, index=True)
    age_band: Mapped[str] = mapped_column(String(8), index=True)
    lang: Mapped[str] = mapped_column(String(12))
    categories: Mapped[list[str]] = mapped_column(JSON)
    reasons: Mapped[list[str]] = mapped_column(JSON)
    excerpt: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # redacted, AES-GCM sealed
    status: Mapped[str] = mapped_column(String(24), default="open", index=True)
    resolution: Mapped[str | None] = mapped_column(String(32), nullable=True)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    # keyed HMAC of the service's child profile id, never the id itself: lets consent withdrawal find the
    # child's cases without storing who the child is
    profile_ref: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    # reports: SHA-256 of the child's reference code (lookups work, a leaked table does not reveal codes)
    reference_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    contact: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # optional, AES-GCM sealed
    # idempotency key of the write (`CaseRecord.key`): a spooled case replayed twice is still one case
    case_key: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    # conversation cases: keyed hash of the conversation id (one open case per conversation), the sealed
    # turn-by-turn timeline (store/threads.py) and when new evidence last changed the case
    thread_ref: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    timeline: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # children's reports: keyed hash of kind, age band and folded words; equal keys are one queue item
    fold_key: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)


class AuditEntry(Base):
    """Append-only and hash-chained: each entry's hash covers the previous hash, so a removed or edited
    entry breaks the chain (`Store.verify_audit_log`)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id
    role: Mapped[str] = mapped_column(String(16))  # moderator | admin
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ConsoleSession(Base):
    """Server-side sessions: the cookie holds a random token, the table only its SHA-256."""

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class Consent(Base):
    """Parental consent per child profile (5b). After withdrawal only the tombstone stays (when, how),
    so the service can show it honoured the withdrawal; the guardian's contact is deleted."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile_ref: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16))  # granted | withdrawn
    guardian: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # AES-GCM sealed contact
    scope: Mapped[list[str]] = mapped_column(JSON)
    method: Mapped[str] = mapped_column(String(64))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class DecisionCount(Base):
    """Aggregated counts for the transparency report (3c): no text, no ids, one row per cell per day."""

    __tablename__ = "decision_counts"
    __table_args__ = (UniqueConstraint("day", "source", "category", "action", "age_band", "lang",
                                       name="uq_decision_counts_cell"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[str] = mapped_column(String(10), index=True)  # YYYY-MM-DD (UTC)
    source: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(40))  # "none" for allowed messages
    action: Mapped[str] = mapped_column(String(16))
    age_band: Mapped[str] = mapped_column(String(8))
    lang: Mapped[str] = mapped_column(String(12))
    count: Mapped[int] = mapped_column(Integer, default=0)


class ContestToken(Base):
    """A blocked or redirected child's message that may be contested (3i, 8a). Kept only for the contest
    window: the decision's categories and reasons and the redacted, AES-GCM-sealed excerpt, so that a
    contest can show a moderator what was decided without the token carrying any text."""

    __tablename__ = "contest_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    source: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(16))
    categories: Mapped[list[str]] = mapped_column(JSON)
    reasons: Mapped[list[str]] = mapped_column(JSON)
    age_band: Mapped[str] = mapped_column(String(8))
    lang: Mapped[str] = mapped_column(String(12))
    excerpt: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    profile_ref: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    case_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # set once contested
