"""The store: one class, SQLAlchemy 2 sessions, Alembic migrations applied on start."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

from cryptography.exceptions import InvalidTag
from sqlalchemy import delete, select, update
from sqlalchemy import text as sql
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from ..agebands import AgeBand
from ..decision import Decision
from ..errors import ConfigError, InvalidInputError, NotFoundError, StoreUnavailableError
from ..redaction import redact_personal_data
from ..settings import Settings
from ..taxonomy import get_taxonomy
from . import threads
from .crypto import Box, load_key
from .engine import CHAIN_LOCKS, first_line, open_engine
from .records import CaseRecord, ThreadTurn
from .tables import AuditEntry, ReviewCase
from .withdrawn import consent_withdrawn

RESOLUTIONS = ("resolved", "false_alarm", "referred_helpline", "referred_authority")
BAND_ORDER = {b.value: b.order for b in AgeBand}
GENESIS = "0" * 64
EXCERPT_CHARS = 500
SAFEGUARDING_SEVERITY = 4  # open cases this severe survive a consent withdrawal until a human decides
NOTE_MARKER = "\n\n[the child's note] "  # a contest's excerpt: the contested text, then the child's own words
SEALED_NOTE = "gcm1:"  # notes column: this prefix + base64 of the sealed note (older rows: plain text)
TIMELINE = b"timeline"  # sealing context of a conversation case's timeline


_EXCERPT_WINDOW = EXCERPT_CHARS + 2000  # every personal-data match is shorter than the margin


def excerpt_of(text: str) -> str | None:
    """What a case keeps of the child's words: redacted first, then cut (5b, 5c). Only a window of a
    long text is redacted (a 40 kB message cost 80 ms of interpreter lock for a 500-character excerpt);
    when the window's redacted text is too short to be sure a match cut at its end lies beyond the
    excerpt, the whole text is redacted, so the result is always that of redacting it all."""
    if not text:
        return None
    out = redact_personal_data(text[:_EXCERPT_WINDOW])
    if len(text) > _EXCERPT_WINDOW and len(out) < EXCERPT_CHARS + 500:
        out = redact_personal_data(text)
    return out[:EXCERPT_CHARS]


def _utc(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


class Store:
    def __init__(self, settings: Settings, url: str | None = None) -> None:
        self.url = url or settings.database_url
        try:
            key = load_key(settings.encryption_key, settings.key_file)
        except OSError as exc:
            raise ConfigError(f"cannot read or create the key file {settings.key_file}: {exc.strerror or exc}; "
                              "check CHILDGUARD_KEY_FILE (or set CHILDGUARD_ENCRYPTION_KEY)") from exc
        self.box = Box(key)
        self._profile_key = hashlib.sha256(b"childguard/profile-ref/" + key).digest()
        self._token_key = hashlib.sha256(b"childguard/contest-token/" + key).digest()
        self._thread_key = hashlib.sha256(b"childguard/thread-ref/" + key).digest()
        self.retention = timedelta(days=settings.retention_days)
        try:
            self._open()
        except (ArgumentError, NoSuchModuleError) as exc:
            raise ConfigError(f"CHILDGUARD_DATABASE_URL is not a usable SQLAlchemy URL ({exc}); use e.g. "
                              "sqlite:///childguard-data/childguard.db or postgresql+psycopg://user@host/db") from exc
        except (DBAPIError, OSError) as exc:
            raise StoreUnavailableError(
                f"cannot open the database {self.safe_url()}: {first_line(exc)}. Check CHILDGUARD_DATABASE_URL "
                "and that the database is running and reachable, then start again") from exc

    def safe_url(self) -> str:
        try:
            return make_url(self.url).render_as_string(hide_password=True)
        except ArgumentError:
            return "(unparsable URL)"

    def _open(self) -> None:
        self.engine = open_engine(self.url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.migrate()

    def migrate(self) -> None:
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(resources.files("childguard.store").joinpath("migrations")))
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def profile_ref(self, profile_id: str) -> str:
        """A keyed hash of the service's child profile id: stable, so withdrawal finds the child's data,
        but not reversible without the key, so the tables never name a child (5b)."""
        if not isinstance(profile_id, str) or not profile_id.strip() or len(profile_id) > 200:
            raise InvalidInputError("profile id must be a non-empty string of at most 200 characters")
        return hmac.new(self._profile_key, profile_id.strip().encode(), hashlib.sha256).hexdigest()

    def thread_ref(self, source: str, conversation: str) -> str:
        """A keyed hash of a conversation id (per surface): finds the conversation's open case without
        storing the app's id for it."""
        return hmac.new(self._thread_key, f"{source}\x00{conversation}".encode("utf-8", "surrogatepass"),
                        hashlib.sha256).hexdigest()

    def sign(self, data: bytes) -> bytes:
        """HMAC-SHA256 with a key derived from the store key: tokens handed to children (contests) can be
        checked without a lookup and cannot be forged or enumerated."""
        return hmac.new(self._token_key, data, hashlib.sha256).digest()

    # -- cases ---------------------------------------------------------------------------------------

    def open_case(self, decision: Decision, text: str, source: str, actor: str = "system",
                  profile: str | None = None, findings: list[str] | None = None) -> int | None:
        """Only escalations are kept (5b): an allowed or merely blocked message leaves no trace."""
        record = self.case_record(decision, text, source, actor, profile, findings)
        return self.save_case(record) if record else None

    def case_record(self, decision: Decision, text: str, source: str, actor: str = "system",
                    profile: str | None = None, findings: list[str] | None = None,
                    conversation: str | None = None, turn: ThreadTurn | None = None) -> CaseRecord | None:
        """The case an escalation opens, or None when it opens none. Pure CPU work (redaction, keyed
        hash), no I/O, so the service builds it next to the decision and writes or spools it after.
        `findings`: conversation-level escalations (grooming trajectory, harassment) that make a case even
        when the message alone would not. `conversation` (and the `turn` that escalated): the case joins
        that conversation's open case instead of opening another (store/threads.py)."""
        if not decision.review_required and not findings:
            return None
        tax = get_taxonomy()
        categories = list(dict.fromkeys([*decision.flagged, *(findings or [])]))
        severity = max((tax.categories[c].severity if c in tax.categories else 4 for c in categories), default=1)
        reasons = [r.text for r in decision.reasons if r.label in decision.flagged]
        reasons += [f"conversation: {k}" for k in findings or []]
        return CaseRecord(source=source, severity=severity, age_band=decision.age_band.value, lang=decision.lang,
                          categories=categories, reasons=reasons, excerpt=excerpt_of(text), actor=actor,
                          profile_ref=self.profile_ref(profile) if profile else None,
                          thread_ref=self.thread_ref(source, conversation) if conversation else None, turn=turn)

    def add_case(self, *, source: str, severity: int, age_band: str, lang: str, categories: list[str], text: str,
                 reasons: list[str], actor: str = "system", profile_ref: str | None = None,
                 reference_hash: str | None = None, contact: str | None = None) -> int | None:
        return self.save_case(CaseRecord(source=source, severity=severity, age_band=age_band, lang=lang,
                                         categories=categories, reasons=reasons, excerpt=excerpt_of(text),
                                         actor=actor, profile_ref=profile_ref, reference_hash=reference_hash,
                                         contact=contact))

    def save_case(self, record: CaseRecord) -> int | None:
        """Write a case once: a second write of the same `record.key` (a replay after a store call that
        timed out but did commit) returns the first case's id and logs nothing new. None: the profile's
        consent was withdrawn and the case is not one safeguarding keeps (those are stored unlinked)."""
        try:
            return self._insert_case(record)
        except IntegrityError:  # the same key committed concurrently (another worker's replay)
            existing = self._case_by_key(record.key)
            if existing is not None:
                return existing
            if record.thread_ref is None:
                raise
            # another worker opened this conversation's case first (one open case per thread): join it
            return self._insert_case(record)

    def _case_by_key(self, key: str) -> int | None:
        with self.sessions() as s:
            found = s.scalars(select(ReviewCase.id).where(ReviewCase.case_key == key)).first()
            return int(found) if found is not None else None

    def _insert_case(self, r: CaseRecord) -> int | None:
        with self.sessions.begin() as s:
            found = s.scalars(select(ReviewCase.id).where(ReviewCase.case_key == r.key)).first()
            if found is not None:
                return int(found)
            if consent_withdrawn(s, r.profile_ref):  # as the withdrawal would have treated it
                if r.severity < SAFEGUARDING_SEVERITY:
                    self.audit_event(s, r.actor, "case_dropped_consent_withdrawn", None, r.source)
                    return None
                r = r.model_copy(update={"profile_ref": None})
            if r.thread_ref is not None:
                joined = self._join_thread(s, r)
                if joined is not None:
                    return joined
            timeline = [threads.opening_entry(r)] if r.thread_ref else None
            case = ReviewCase(created_at=r.created_at, source=r.source, severity=r.severity, age_band=r.age_band,
                              lang=r.lang, categories=r.categories, reasons=r.reasons,
                              excerpt=self.box.seal(r.excerpt) if r.excerpt else None, status="open",
                              profile_ref=r.profile_ref, reference_hash=r.reference_hash,
                              contact=self.box.seal(r.contact) if r.contact else None, case_key=r.key,
                              thread_ref=r.thread_ref,
                              timeline=self.box.seal(threads.dump(timeline), TIMELINE) if timeline else None,
                              fold_key=r.fold_key)
            s.add(case)
            s.flush()
            self.audit_event(s, r.actor, "case_opened", case.id, f"{r.source}: {', '.join(r.categories)}")
            return int(case.id)

    def _join_thread(self, s: Session, r: CaseRecord) -> int | None:
        """Add `r` to its conversation's open case (locked for the update); None when there is none."""
        case = s.scalars(select(ReviewCase).where(ReviewCase.thread_ref == r.thread_ref,
                                                  ReviewCase.status == "open")
                         .order_by(ReviewCase.id.desc()).limit(1).with_for_update()).first()
        if case is None:
            return None
        old = threads.CaseState(case.severity, list(case.categories), list(case.reasons),
                                threads.load(self.box.open(case.timeline, TIMELINE) if case.timeline else None))
        update_ = threads.merge(old, r)
        if update_ is None:
            return int(case.id)
        case.severity, case.categories, case.reasons = update_.severity, update_.categories, update_.reasons
        case.timeline = self.box.seal(threads.dump(update_.timeline), TIMELINE)
        if r.excerpt:
            case.excerpt = self.box.seal(r.excerpt)
        case.updated_at = r.created_at
        self.audit_event(s, r.actor, "case_updated", case.id, f"{r.source}: {update_.change}")
        return int(case.id)

    def ping(self) -> None:
        """One round trip to the database; raises when it is unreachable (readiness, spool replay)."""
        with self.engine.connect() as conn:
            conn.execute(sql("select 1"))

    def queue(self, status: str = "open") -> list[dict[str, Any]]:
        """Most severe first, then cases the model escalated before children's reports, then youngest,
        then oldest; no excerpt (minimum context until opened). Identical reports (one `fold_key`) are
        one item, its oldest case, with `folded` saying how many, and go below every distinct case: a
        flood of 3,000 copies is one line and cannot push a real escalation out of sight."""
        with self.sessions() as s:
            rows = s.scalars(select(ReviewCase).where(ReviewCase.status == status)).all()
        groups: dict[object, list[ReviewCase]] = {}
        for c in rows:
            groups.setdefault(c.fold_key or ("case", c.id), []).append(c)

        def first(c: ReviewCase) -> tuple[int, datetime]:
            return -c.severity, _utc(c.created_at)

        items = [(min(g, key=first), len(g)) for g in groups.values()]
        items.sort(key=lambda item: (item[1] > 1, -item[0].severity, item[0].source == "report",
                                     BAND_ORDER.get(item[0].age_band, 9), _utc(item[0].created_at)))
        return [{"id": c.id, "source": c.source, "severity": c.severity, "age_band": c.age_band, "lang": c.lang,
                 "categories": c.categories, "created_at": _utc(c.created_at).isoformat(),
                 "updated_at": _utc(c.updated_at).isoformat() if c.updated_at else None,
                 "resolution": c.resolution, "folded": n} for c, n in items]

    def view(self, case_id: int, actor: str) -> dict[str, Any]:
        """Opening a case is itself logged: who saw which child's words, and when (4i)."""
        with self.sessions.begin() as s:
            case = s.get(ReviewCase, case_id)
            if case is None:
                raise NotFoundError(f"no case {case_id}")
            self.audit_event(s, actor, "case_viewed", case_id, "")
            excerpt = self.box.open(case.excerpt) if case.excerpt else None
            contact = self.box.open(case.contact) if case.contact else None
            timeline = threads.load(self.box.open(case.timeline, TIMELINE) if case.timeline else None)
            return {"id": case.id, "source": case.source, "status": case.status, "severity": case.severity,
                    "age_band": case.age_band, "lang": case.lang, "categories": case.categories,
                    "reasons": case.reasons, "excerpt": excerpt, "contact": contact,
                    "created_at": _utc(case.created_at).isoformat(), "resolution": case.resolution,
                    "notes": self._open_note(case.notes), "decided_by": case.decided_by,
                    "decided_at": _utc(case.decided_at).isoformat() if case.decided_at else None,
                    "timeline": timeline,
                    "updated_at": _utc(case.updated_at).isoformat() if case.updated_at else None}

    def decide(self, case_id: int, actor: str, resolution: str, notes: str = "") -> None:
        if resolution not in RESOLUTIONS:
            raise InvalidInputError(f"resolution must be one of {', '.join(RESOLUTIONS)}")
        with self.sessions.begin() as s:
            case = s.get(ReviewCase, case_id)
            if case is None:
                raise NotFoundError(f"no case {case_id}")
            if case.status == "closed":
                raise InvalidInputError(f"case {case_id} is already closed ({case.resolution})")
            case.status, case.resolution, case.notes = "closed", resolution, self._seal_note(notes[:2000])
            case.decided_at, case.decided_by = datetime.now(UTC), actor
            self.audit_event(s, actor, "case_decided", case_id, resolution)

    def _seal_note(self, notes: str) -> str | None:
        """Moderators' notes describe a child's situation: sealed like the excerpt (5c), in the existing
        text column, so no migration is needed."""
        if not notes:
            return None
        return SEALED_NOTE + base64.b64encode(self.box.seal(notes, b"note")).decode("ascii")

    def _open_note(self, stored: str | None) -> str | None:
        if not stored or not stored.startswith(SEALED_NOTE):
            return stored  # written before notes were sealed
        try:
            return self.box.open(base64.b64decode(stored[len(SEALED_NOTE):]), b"note")
        except (ValueError, InvalidTag):  # not ours, or another key
            return None

    def case_status(self, reference_hash: str) -> dict[str, Any] | None:
        with self.sessions() as s:
            case = s.scalars(select(ReviewCase).where(ReviewCase.reference_hash == reference_hash)).first()
            if case is None:
                return None
            return {"status": case.status, "resolution": case.resolution,
                    "created_at": _utc(case.created_at).isoformat()}

    def false_alarms(self, actor: str) -> list[dict[str, Any]]:
        """Closed-as-false-alarm cases whose excerpt is still kept, as benign training rows; the export
        is logged because it reveals (redacted) children's words."""
        with self.sessions.begin() as s:
            rows = s.scalars(select(ReviewCase).where(ReviewCase.resolution == "false_alarm")
                             .order_by(ReviewCase.id)).all()
            # redacted again: excerpts stored before a pattern was added (names) must not leak through; a
            # contest's note is the child talking about the decision, not the text that was judged
            out = [{"text": redact_personal_data(self.box.open(c.excerpt).split(NOTE_MARKER)[0]), "label": "benign",
                    "flagged_as": c.categories, "lang": c.lang, "age_band": c.age_band, "source": c.source,
                    "case_id": c.id}
                   for c in rows if c.excerpt]
            self.audit_event(s, actor, "false_alarms_exported", None, f"{len(out)} rows")
            return out

    def delete_profile(self, profile_ref: str, actor: str) -> tuple[int, int]:
        """Withdrawal of consent: the child's cases are deleted, except two kinds that safeguarding needs
        (and GDPR art. 17(3)(b) allows keeping): cases referred to an authority, and open cases of the
        most serious harms (severity 4: abuse, grooming, sextortion, self-harm...), because the adult who
        withdraws may be the one the case is about. Those are unlinked from the profile and follow the
        normal retention. Returns (deleted, kept); the audit log records both counts."""
        with self.sessions.begin() as s:
            return self._delete_profile(s, profile_ref, actor)

    def _delete_profile(self, s: Session, profile_ref: str, actor: str) -> tuple[int, int]:
        """`delete_profile` inside the caller's transaction (withdrawal: all or nothing)."""
        rows = s.scalars(select(ReviewCase).where(ReviewCase.profile_ref == profile_ref)).all()
        keep = [c.id for c in rows if c.resolution == "referred_authority"
                or (c.status == "open" and c.severity >= SAFEGUARDING_SEVERITY)]
        drop = [c.id for c in rows if c.id not in keep]
        if drop:
            s.execute(delete(ReviewCase).where(ReviewCase.id.in_(drop)))
        if keep:
            s.execute(update(ReviewCase).where(ReviewCase.id.in_(keep)).values(profile_ref=None))
        self.audit_event(s, actor, "profile_data_deleted", None,
                         f"{len(drop)} cases deleted; {len(keep)} kept for safeguarding: {json.dumps(keep)}")
        return len(drop), len(keep)

    def purge(self, now: datetime | None = None) -> int:
        """Delete excerpts, report contacts and moderators' notes older than the retention period; the case
        metadata (with its resolution) and the audit trail stay."""
        cutoff = (now or datetime.now(UTC)) - self.retention
        with self.sessions.begin() as s:
            old = s.scalars(select(ReviewCase).where(
                (ReviewCase.excerpt.is_not(None)) | (ReviewCase.contact.is_not(None))
                | (ReviewCase.notes.is_not(None)) | (ReviewCase.timeline.is_not(None)))).all()
            ids = [c.id for c in old if _utc(c.created_at) < cutoff]
            if ids:
                s.execute(update(ReviewCase).where(ReviewCase.id.in_(ids))
                          .values(excerpt=None, contact=None, notes=None, timeline=None))
                self.audit_event(s, "retention", "excerpts_purged", None, json.dumps(ids))
            return len(ids)

    def audit(self, actor: str, action: str, detail: str = "", case_id: int | None = None) -> None:
        with self.sessions.begin() as s:
            self.audit_event(s, actor, action, case_id, detail)

    # -- audit log -----------------------------------------------------------------------------------

    @staticmethod
    def _digest(prev: str, at: datetime, actor: str, action: str, case_id: int | None, detail: str) -> str:
        payload = json.dumps([prev, _utc(at).isoformat(), actor, action, case_id, detail], ensure_ascii=False)
        return hashlib.sha256(payload.encode()).hexdigest()

    def audit_event(self, s: Session, actor: str, action: str, case_id: int | None, detail: str) -> None:
        """Append to the hash chain inside the caller's transaction, so an action and its log entry commit
        together or not at all (`audit` is the same in a transaction of its own). The chain head is locked
        first (per dialect, `CHAIN_LOCKS`) and stays locked until the caller's transaction commits, so
        concurrent writers append one by one."""
        lock = CHAIN_LOCKS.get(self.engine.dialect.name)  # serialised per chain, on every dialect
        if lock is not None:
            lock(s)
        last = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).first()
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
