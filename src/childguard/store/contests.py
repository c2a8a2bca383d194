"""Contestable decisions (3i effective remedies, 8a the right to be heard).

When a child's message is blocked or redirected, the service keeps, for the contest window only, what a
moderator needs to judge a contest: the decision's categories and reasons and the redacted excerpt,
sealed like a case's. The child gets a short token: the row id and an HMAC of it with a key derived
from the store key, so a token cannot be forged or guessed, and it carries no text at all. A contest
turns the row into a low-priority review case (severity 0: after every safeguarding case in the
queue); an upheld contest is closed as a false alarm and so joins the false-alarm export that feeds
retraining."""

from __future__ import annotations

import base64
import hmac
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update

from ..decision import Decision
from ..errors import ConflictError, InvalidInputError, NotFoundError
from ..policy import Action
from .store import EXCERPT_CHARS, NOTE_MARKER, Store, _utc, excerpt_of
from .tables import ContestToken, ReviewCase
from .withdrawn import consent_withdrawn

CONTESTABLE = frozenset({Action.REDIRECT, Action.BLOCK})
CONTEST_SEVERITY = 0
MAC_BYTES = 10
MAX_NOTE = 200  # "an optional word": short enough that the contested text keeps most of the excerpt
# what a moderator's resolution means for the child who contested
OUTCOME = {"false_alarm": "upheld", "resolved": "decision_stands", "referred_helpline": "decision_stands",
           "referred_authority": "decision_stands"}


def contestable(decision: Decision) -> bool:
    """Cheap test kept apart from `issue`, so surfaces only pay for a database write when needed."""
    return decision.role == "child" and decision.action in CONTESTABLE


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=").lower()


def _unb32(text: str) -> bytes:
    return base64.b32decode(text.upper() + "=" * (-len(text) % 8))


class Contests:
    def __init__(self, store: Store, window_days: float = 14, expire_every_s: float = 3600) -> None:
        self.store = store
        self.window = timedelta(days=window_days)
        self._expire_every_s = expire_every_s
        self._last_expiry = 0.0
        self._lock = threading.Lock()

    # -- tokens --------------------------------------------------------------------------------------

    def _mac(self, token_id: int) -> bytes:
        return self.store.sign(b"contest:" + str(token_id).encode())[:MAC_BYTES]

    def _round(self, k: int, half: int) -> int:
        return int.from_bytes(self.store.sign(b"contest-head" + bytes([k]) + half.to_bytes(4, "big"))[:4], "big")

    def _permute(self, value: int, decrypt: bool = False) -> int:
        """A keyed permutation of 64-bit ids (a 4-round Feistel network over the store key): the token's
        head is the row id permuted, so consecutive tokens do not tell how many messages were blocked in
        between (the plain id did), and the token stays short enough to copy by hand."""
        left, right = value >> 32, value & 0xFFFFFFFF
        rounds = range(3, -1, -1) if decrypt else range(4)
        for k in rounds:
            if decrypt:
                left, right = right ^ self._round(k, left), left
            else:
                left, right = right, left ^ self._round(k, right)
        return (left << 32) | right

    def token_for(self, token_id: int) -> str:
        head = self._permute(token_id).to_bytes(8, "big")  # always 8 bytes: older heads were shorter
        return f"{_b32(head)}.{_b32(self._mac(token_id))}"

    def _token_id(self, head: bytes) -> int:
        if len(head) < 8:  # issued before heads were permuted: the id itself (its MAC still has to hold)
            return int.from_bytes(head, "big")
        if len(head) != 8:
            raise ValueError("not a contest token head")
        return self._permute(int.from_bytes(head, "big"), decrypt=True)

    def parse(self, token: object) -> int:
        """The row id of a genuine token; anything else is refused before the database is touched."""
        if not isinstance(token, str) or len(token) > 64 or token.count(".") != 1:
            raise InvalidInputError("this contest token is not valid; use the one the app showed")
        head, mac = token.strip().lower().split(".")
        try:
            token_id = self._token_id(_unb32(head))
            given = _unb32(mac)
        except ValueError as exc:
            raise InvalidInputError("this contest token is not valid; use the one the app showed") from exc
        if not hmac.compare_digest(given, self._mac(token_id)):
            raise InvalidInputError("this contest token is not valid; use the one the app showed")
        return token_id

    def issue(self, decision: Decision, text: str, source: str, profile: str | None = None) -> str | None:
        """A token for a child's blocked or redirected message; None for anything else."""
        if not contestable(decision):
            return None
        reasons = [r.text for r in decision.reasons if r.label in decision.flagged or r.label == "age_signal"]
        excerpt = self.store.box.seal(excerpt_of(text) or "") if text.strip() else None
        profile_ref = self.store.profile_ref(profile) if profile else None
        with self.store.sessions.begin() as s:
            if consent_withdrawn(s, profile_ref):  # withdrawal deleted this profile's tokens; none come back
                return None
            row = ContestToken(created_at=datetime.now(UTC), source=source, action=decision.action.value,
                               categories=list(decision.flagged), reasons=reasons, age_band=decision.age_band.value,
                               lang=decision.lang, excerpt=excerpt,
                               profile_ref=profile_ref)
            s.add(row)
            s.flush()
            token_id = int(row.id)
        self._maybe_expire()
        return self.token_for(token_id)

    def _maybe_expire(self) -> None:
        """Tokens past the window are deleted at most once per `expire_every_s`, on the issuing path, so
        no extra job is needed and the cost is one indexed DELETE per interval."""
        now = time.monotonic()
        with self._lock:
            if now - self._last_expiry < self._expire_every_s:
                return
            self._last_expiry = now
        self.expire()

    def expire(self, now: datetime | None = None) -> int:
        cutoff = (now or datetime.now(UTC)) - self.window
        with self.store.sessions.begin() as s:
            result = s.execute(delete(ContestToken).where(ContestToken.created_at < cutoff))
            return int(getattr(result, "rowcount", 0) or 0)

    def forget_profile(self, profile_ref: str) -> int:
        """Withdrawal of consent: the profile's uncontested tokens (and their sealed excerpts) go at once."""
        with self.store.sessions.begin() as s:
            result = s.execute(delete(ContestToken).where(ContestToken.profile_ref == profile_ref))
            return int(getattr(result, "rowcount", 0) or 0)

    # -- contests ------------------------------------------------------------------------------------

    def check(self, token: str) -> None:
        """Raise what `contest` would raise for this token (not valid, expired, already contested),
        without claiming it: the page asks before the child writes a word."""
        token_id = self.parse(token)
        with self.store.sessions() as s:
            row = s.get(ContestToken, token_id)
            if row is None or _utc(row.created_at) < datetime.now(UTC) - self.window:
                raise NotFoundError("this contest token has expired")
            if row.case_id is not None:
                raise ConflictError("this decision was already contested; check it with your reference code")

    def contest(self, token: str, note: str, reference_hash: str) -> int:
        """Open the low-priority review case for a token (once); returns the case id."""
        token_id = self.parse(token)
        if len(note) > MAX_NOTE:
            raise InvalidInputError(f"the note has {len(note)} characters; at most {MAX_NOTE}")
        with self.store.sessions.begin() as s:
            row = s.get(ContestToken, token_id)
            if row is None or _utc(row.created_at) < datetime.now(UTC) - self.window:
                raise NotFoundError("this contest token has expired")
            # claim the token atomically: two contests racing with one token open one case
            claimed = s.execute(update(ContestToken).where(ContestToken.id == token_id, ContestToken.case_id.is_(None))
                                .values(case_id=-1))
            if not getattr(claimed, "rowcount", 0):
                raise ConflictError("this decision was already contested; check it with your reference code")
            excerpt = self.store.box.open(row.excerpt) if row.excerpt else ""
            snapshot = (row.source, row.action, list(row.categories), list(row.reasons), row.age_band, row.lang,
                        row.profile_ref)
        source, action, categories, reasons, band, lang, profile_ref = snapshot
        note = note.strip()
        # one excerpt of EXCERPT_CHARS holds both: the contested text gives way, the child's words stay whole
        text = (excerpt[:EXCERPT_CHARS - len(NOTE_MARKER) - len(note)] + NOTE_MARKER + note) if note else excerpt
        try:
            case_id = self.store.add_case(
                source="contest", severity=CONTEST_SEVERITY, age_band=band, lang=lang, categories=categories,
                text=text, actor="child_contest", profile_ref=profile_ref, reference_hash=reference_hash,
                reasons=[f"the child contests this {action} decision ({source})", *reasons])
        except Exception:  # release the claim, so the child can try again once the store is back
            with self.store.sessions.begin() as s:
                s.execute(update(ContestToken).where(ContestToken.id == token_id).values(case_id=None))
            raise
        with self.store.sessions.begin() as s:
            if case_id is None:  # consent was withdrawn meanwhile: the token goes the way withdrawal sends it
                s.execute(delete(ContestToken).where(ContestToken.id == token_id))
                raise NotFoundError("this decision's record was deleted when the parent withdrew consent")
            s.execute(update(ContestToken).where(ContestToken.id == token_id).values(case_id=case_id, excerpt=None))
        return case_id

    def outcome(self, reference_hash: str) -> str | None:
        """open | upheld | decision_stands, or None for an unknown code."""
        found = self.store.case_status(reference_hash)
        if found is None:
            return None
        if found["status"] != "closed":
            return "open"
        return OUTCOME.get(str(found["resolution"]), "decision_stands")

    # -- transparency --------------------------------------------------------------------------------

    def stats(self, days: int, min_count: int, today: datetime | None = None) -> dict[str, Any]:
        """Contests received and their outcomes, per category and per language (3c); small cells are
        suppressed like every other published count."""
        since = (today or datetime.now(UTC)) - timedelta(days=days)
        with self.store.sessions() as s:
            rows = s.execute(select(ReviewCase.categories, ReviewCase.lang, ReviewCase.status, ReviewCase.resolution)
                             .where(ReviewCase.source == "contest", ReviewCase.created_at >= since)).all()
        by_category: dict[str, Counter[str]] = {}
        by_language: dict[str, Counter[str]] = {}
        totals: Counter[str] = Counter()
        for categories, lang, status, resolution in rows:
            outcome = "open" if status != "closed" else OUTCOME.get(str(resolution), "decision_stands")
            for cell in ([*categories] or ["none"]):
                by_category.setdefault(cell, Counter())[outcome] += 1
            by_language.setdefault(lang, Counter())[outcome] += 1
            totals[outcome] += 1

        def publish(c: Counter[str]) -> dict[str, int | str]:
            cells = {"received": sum(c.values()), "upheld": c["upheld"], "decision_stands": c["decision_stands"],
                     "open": c["open"]}
            return {k: (v if v >= min_count or v == 0 else f"<{min_count}") for k, v in cells.items()}

        return {"total": publish(totals),
                "by_category": {k: publish(v) for k, v in sorted(by_category.items())},
                "by_language": {k: publish(v) for k, v in sorted(by_language.items())}}
