"""The store: one class, SQLAlchemy 2 sessions, Alembic migrations applied on start."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from ..decision import Decision
from ..detectors.patterns import redact_personal_data
from ..errors import InvalidInputError
from ..settings import Settings
from ..taxonomy import get_taxonomy
from .crypto import Box, load_key
from .models import AuditEntry, ReviewCase

RESOLUTIONS = ("resolved", "false_alarm", "referred_helpline", "referred_authority")
BAND_ORDER = {"0-5": 0, "6-9": 1, "10-12": 2, "13-15": 3, "16-17": 4, "adult": 5}
GENESIS = "0" * 64
EXCERPT_CHARS = 500


def _utc(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


class Store:
    def __init__(self, settings: Settings, url: str | None = None) -> None:
        self.url = url or settings.database_url
        sa_url = make_url(self.url)
        if sa_url.drivername.startswith("sqlite") and sa_url.database not in (None, "", ":memory:"):
            Path(sa_url.database).parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(self.url, future=True, pool_pre_ping=True)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.box = Box(load_key(settings.encryption_key, settings.key_file))
        self.retention = timedelta(days=settings.retention_days)
        self.migrate()

    def migrate(self) -> None:
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(resources.files("childguard.store").joinpath("migrations")))
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    # -- cases ---------------------------------------------------------------------------------------

    def open_case(self, decision: Decision, text: str, source: str, actor: str = "system") -> int | None:
        """Only escalations are kept (5b): an allowed or merely blocked message leaves no trace."""
        if not decision.review_required:
            return None
        tax = get_taxonomy()
        severity = max((tax.categories[c].severity for c in decision.flagged), default=1)
        excerpt = self.box.seal(redact_personal_data(text)[:EXCERPT_CHARS])
        with self.sessions.begin() as s:
            case = ReviewCase(created_at=datetime.now(UTC), source=source, severity=severity,
                              age_band=decision.age_band.value, lang=decision.lang, categories=decision.flagged,
                              reasons=[r.text for r in decision.reasons if r.label in decision.flagged],
                              excerpt=excerpt, status="open")
            s.add(case)
            s.flush()
            self._audit(s, actor, "case_opened", case.id, f"{source}: {', '.join(decision.flagged)}")
            return int(case.id)

    def queue(self, status: str = "open") -> list[dict[str, Any]]:
        """Most severe first, then youngest, then oldest; no excerpt (minimum context until opened)."""
        with self.sessions() as s:
            rows = s.scalars(select(ReviewCase).where(ReviewCase.status == status)).all()
        rows = sorted(rows, key=lambda c: (-c.severity, BAND_ORDER.get(c.age_band, 9), _utc(c.created_at)))
        return [{"id": c.id, "severity": c.severity, "age_band": c.age_band, "lang": c.lang,
                 "categories": c.categories, "created_at": _utc(c.created_at).isoformat()} for c in rows]

    def view(self, case_id: int, actor: str) -> dict[str, Any]:
        with self.sessions.begin() as s:
            case = s.get(ReviewCase, case_id)
            if case is None:
                raise InvalidInputError(f"no case {case_id}")
            self._audit(s, actor, "case_viewed", case_id, "")
            excerpt = self.box.open(case.excerpt) if case.excerpt else None
            return {"id": case.id, "status": case.status, "severity": case.severity, "age_band": case.age_band,
                    "lang": case.lang, "categories": case.categories, "reasons": case.reasons, "excerpt": excerpt,
                    "resolution": case.resolution, "notes": case.notes}

    def decide(self, case_id: int, actor: str, resolution: str, notes: str = "") -> None:
        if resolution not in RESOLUTIONS:
            raise InvalidInputError(f"resolution must be one of {RESOLUTIONS}")
        with self.sessions.begin() as s:
            case = s.get(ReviewCase, case_id)
            if case is None:
                raise InvalidInputError(f"no case {case_id}")
            case.status, case.resolution, case.notes = "closed", resolution, notes[:2000]
            self._audit(s, actor, "case_decided", case_id, resolution)

    def purge(self, now: datetime | None = None) -> int:
        """Delete excerpts older than the retention period; the case metadata and audit trail stay."""
        cutoff = (now or datetime.now(UTC)) - self.retention
        with self.sessions.begin() as s:
            ids = [c.id for c in s.scalars(select(ReviewCase).where(ReviewCase.excerpt.is_not(None))).all()
                   if _utc(c.created_at) < cutoff]
            if ids:
                s.execute(update(ReviewCase).where(ReviewCase.id.in_(ids)).values(excerpt=None))
                self._audit(s, "retention", "excerpts_purged", None, json.dumps(ids))
            return len(ids)

    # -- audit log -----------------------------------------------------------------------------------

    @staticmethod
    def _digest(prev: str, at: datetime, actor: str, action: str, case_id: int | None, detail: str) -> str:
        payload = json.dumps([prev, _utc(at).isoformat(), actor, action, case_id, detail], ensure_ascii=False)
        return hashlib.sha256(payload.encode()).hexdigest()

    def _audit(self, s: Session, actor: str, action: str, case_id: int | None, detail: str) -> None:
        last = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1).with_for_update()).first()
        prev = last.hash if last else GENESIS
        at = datetime.now(UTC).replace(microsecond=0)
        s.add(AuditEntry(at=at, actor=actor, action=action, case_id=case_id, detail=detail, prev_hash=prev,
                         hash=self._digest(prev, at, actor, action, case_id, detail)))

    def audit_log(self) -> list[dict[str, Any]]:
        with self.sessions() as s:
            rows = s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        return [{"id": e.id, "at": _utc(e.at).isoformat(), "actor": e.actor, "action": e.action,
                 "case_id": e.case_id, "detail": e.detail, "hash": e.hash} for e in rows]

    def verify_audit_log(self) -> bool:
        prev = GENESIS
        with self.sessions() as s:
            for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id)):
                if e.prev_hash != prev or e.hash != self._digest(prev, e.at, e.actor, e.action, e.case_id, e.detail):
                    return False
                prev = e.hash
        return True
