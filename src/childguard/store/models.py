"""SQLAlchemy 2 models. Only what human oversight needs is kept: review cases for escalations (never
for allowed messages), their redacted and encrypted excerpt, and an append-only audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Integer, LargeBinary, String, Text
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
