"""Moderator accounts and console sessions (4i: human oversight needs to know who looked at what).

Passwords are hashed with argon2id; sessions live server-side and the cookie carries only a random
token whose SHA-256 is stored, so a copy of the database cannot be replayed as a login. Repeated
failures make the account, and the client address, wait longer and longer (`Backoff`), but an address
that has not failed may still try the account once (others cannot lock the moderator out); the check and the
count are one statement, so parallel guesses cannot slip past it. Every attempt costs one argon2 verify,
whether the name exists or not, so timing does not tell which names exist. Every login, failure and
logout goes to the audit log."""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import case, delete, literal, null, or_, select, update

from ..errors import AuthError, InvalidInputError, NotFoundError
from .backoff import AddressThrottle, Backoff
from .store import Store, _utc
from .tables import ConsoleSession, User
from .trusted_devices import TrustedDevices
from .usernames import look_alike

ROLES = ("moderator", "admin")
MIN_PASSWORD = 12
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
# spent on unknown usernames too, so timing does not tell which usernames exist
_DUMMY_HASH = PasswordHasher().hash("childguard-timing-equaliser")
_REFUSED = "wrong username or password, or too many attempts; wait a little and try again"


@dataclass(frozen=True)
class SessionInfo:
    user_id: int
    username: str
    role: str
    csrf: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    def __init__(self, store: Store, session_hours: float = 8.0, max_failures: int = 5,
                 lockout_minutes: float = 15.0, backoff_s: float = 30.0) -> None:
        self.store = store
        self.hasher = PasswordHasher()
        self.session_ttl = timedelta(hours=session_hours)
        self.backoff = Backoff(max_failures, min(backoff_s, lockout_minutes * 60), lockout_minutes * 60)
        self.addresses = AddressThrottle(self.backoff)
        self.devices = TrustedDevices(store)
        self._bypasses: dict[str, list[float]] = {}
        self._bypass_lock = threading.Lock()

    # -- users ---------------------------------------------------------------------------------------

    def add_user(self, username: str, password: str, role: str = "moderator", actor: str = "cli") -> int:
        if not _USERNAME.match(username or ""):
            raise InvalidInputError("username: 2-64 letters, digits or _ . @ -")
        if role not in ROLES:
            raise InvalidInputError(f"role must be one of {', '.join(ROLES)}")
        if len(password or "") < MIN_PASSWORD:
            raise InvalidInputError(f"password must have at least {MIN_PASSWORD} characters")
        with self.store.sessions.begin() as s:
            if s.scalars(select(User).where(User.username == username)).first() is not None:
                raise InvalidInputError(f"user {username!r} exists; use `childguard users passwd` to change it")
            twin = look_alike(username, list(s.scalars(select(User.username))))
            if twin is not None:
                raise InvalidInputError(f"{username!r} looks like the existing user {twin!r} (case, look-alike "
                                        "letters and . _ - @ are ignored); choose a clearly different name")
            user = User(username=username, password_hash=self.hasher.hash(password), role=role,
                        created_at=datetime.now(UTC), disabled=False, failed_logins=0)
            s.add(user)
            s.flush()
            self.store.audit_event(s, actor, "user_added", None, f"{username} ({role})")
            return int(user.id)

    def set_password(self, username: str, password: str, actor: str = "cli") -> None:
        if len(password or "") < MIN_PASSWORD:
            raise InvalidInputError(f"password must have at least {MIN_PASSWORD} characters")
        with self.store.sessions.begin() as s:
            user = self._user(s, username)
            user.password_hash, user.failed_logins, user.locked_until = self.hasher.hash(password), 0, None
            s.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user.id))
            self.store.audit_event(s, actor, "password_changed", None, username)

    def set_disabled(self, username: str, disabled: bool, actor: str = "cli") -> None:
        with self.store.sessions.begin() as s:
            user = self._user(s, username)
            user.disabled = disabled
            if disabled:
                s.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user.id))
            self.store.audit_event(s, actor, "user_disabled" if disabled else "user_enabled", None, username)

    def list_users(self) -> list[dict[str, Any]]:
        with self.store.sessions() as s:
            return [{"username": u.username, "role": u.role, "disabled": u.disabled,
                     "created_at": _utc(u.created_at).isoformat()}
                    for u in s.scalars(select(User).order_by(User.username))]

    @staticmethod
    def _user(s: Any, username: str) -> User:
        user = s.scalars(select(User).where(User.username == username)).first()
        if user is None:
            raise NotFoundError(f"no user {username!r}; create one with `childguard users add`")
        return user  # type: ignore[no-any-return]

    # -- sessions ------------------------------------------------------------------------------------

    def login(self, username: str, password: str, client: str | None = None,
              device: str | None = None) -> tuple[str, SessionInfo]:
        """Return (cookie token, session). One error for every failure, so it never says which part was
        wrong, whether the account exists or whether it is waiting out a back-off. `client`: the
        caller's address, throttled on its own so one address cannot spray many names. `device`: the
        browser's device cookie (`device_token`), which others' failures do not make wait."""
        valid = isinstance(username, str) and bool(_USERNAME.match(username))
        clean = client is not None and self.addresses.clean(client)
        nonce = self.devices.nonce_if_valid(device, username) if valid else None
        trusted = nonce is not None and self.addresses.clean("device:" + nonce)
        if client is not None and not trusted and not self.addresses.claim(client):
            self.store.audit("anonymous", "login_refused", f"address backed off: {username if valid else '?'}")
            raise AuthError(_REFUSED)
        if nonce is not None and not self.addresses.claim("device:" + nonce):
            raise AuthError(_REFUSED)
        claim = self._claim(username) if valid else None
        if claim is None and valid and (trusted or (clean and self._bypass_allowed(username))):
            # throttle, don't lock (OWASP): others' failures back the account off for them, not for the
            # owner's known browser, nor (a few an hour) for an address that has not failed
            claim = self._claim(username, ignore_wait=True)
        if claim is None:  # unknown, disabled or backed off: the same argon2 cost as a real check
            self._verify(_DUMMY_HASH, password)
            self._refuse(username if valid else None)
            raise AuthError(_REFUSED)
        user_id, failures, hashed, role = claim
        if not self._verify(hashed, password):
            wait = self.backoff.delay(failures)
            detail = f"{failures} consecutive" + (f"; next attempt in {int(wait)} s" if wait else "")
            self.store.audit(username, "login_failed", detail)
            raise AuthError(_REFUSED)
        now = datetime.now(UTC)
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self.store.sessions.begin() as s:
            user = s.get(User, user_id)
            if user is None or user.disabled:  # removed or disabled while the password was checked
                raise AuthError(_REFUSED)
            if self.hasher.check_needs_rehash(user.password_hash):
                user.password_hash = self.hasher.hash(password)
            user.failed_logins, user.locked_until = 0, None
            s.add(ConsoleSession(token_hash=_sha(token), user_id=user.id, csrf=csrf, created_at=now,
                                 expires_at=now + self.session_ttl))
            self.store.audit_event(s, username, "login", None, role)
        if client is not None:
            self.addresses.succeeded(client)
        if nonce is not None:
            self.addresses.succeeded("device:" + nonce)
        return token, SessionInfo(user_id, username, role, csrf)

    def device_token(self, username: str) -> str:
        """For the browser that just signed in: its device cookie for this account."""
        return self.devices.issue(username)

    def _bypass_allowed(self, username: str) -> bool:
        """Checks of a backed-off account from addresses without failures: at most `free` per `cap_s`
        per account, so many addresses guessing once each still meet the back-off."""
        now = time.monotonic()
        with self._bypass_lock:
            recent = [t for t in self._bypasses.get(username, []) if now - t < self.backoff.cap_s]
            if len(recent) >= self.backoff.free:
                self._bypasses[username] = recent
                return False
            self._bypasses[username] = [*recent, now]
            while len(self._bypasses) > 10_000:
                self._bypasses.pop(next(iter(self._bypasses)))
            return True

    def _claim(self, username: str, ignore_wait: bool = False) -> tuple[int, int, str, str] | None:
        """Count the attempt before checking it, in one statement: the row is updated only when the
        account is enabled and not waiting, and the new count sets the next wait at once. Parallel
        guesses queue on the row, so at most `free` of them are ever checked before the back-off.
        `ignore_wait`: an attempt from an address without failures, checked despite the wait."""
        now = datetime.now(UTC)
        failures = User.failed_logins + 1
        free = self.backoff.free
        doubling = [n for n in range(free, free + 40) if self.backoff.delay(n) < self.backoff.cap_s]
        steps = {n: literal(now + timedelta(seconds=self.backoff.delay(n)), User.locked_until.type)
                 for n in doubling}
        capped = literal(now + timedelta(seconds=self.backoff.cap_s), User.locked_until.type)
        later = case(steps, value=failures, else_=capped) if steps else capped
        until = case((failures < free, null()), else_=later)
        stmt = (update(User)
                .where(User.username == username, User.disabled.is_(False),
                       literal(ignore_wait) | or_(User.locked_until.is_(None), User.locked_until <= now))
                .values(failed_logins=failures, locked_until=until)
                .returning(User.id, User.failed_logins, User.password_hash, User.role)
                .execution_options(synchronize_session=False))
        with self.store.sessions.begin() as s:
            row = s.execute(stmt).first()
        return None if row is None else (int(row[0]), int(row[1]), str(row[2]), str(row[3]))

    def _refuse(self, username: str | None) -> None:
        with self.store.sessions.begin() as s:
            user = s.scalars(select(User).where(User.username == username)).first() if username else None
            if user is None:
                self.store.audit_event(s, "anonymous", "login_failed", None, "unknown user")
            else:
                self.store.audit_event(s, user.username, "login_refused", None,
                                       "disabled" if user.disabled else "backed off")

    def _verify(self, hashed: str, password: str) -> bool:
        try:
            return bool(self.hasher.verify(hashed, password))
        except (VerificationError, InvalidHashError, UnicodeEncodeError, TypeError):
            return False

    def session(self, token: str | None) -> SessionInfo | None:
        if not token:
            return None
        with self.store.sessions() as s:
            row = s.scalars(select(ConsoleSession).where(ConsoleSession.token_hash == _sha(token))).first()
            if row is None or _utc(row.expires_at) <= datetime.now(UTC):
                return None
            user = s.get(User, row.user_id)
            if user is None or user.disabled:
                return None
            return SessionInfo(user.id, user.username, user.role, row.csrf)

    def logout(self, token: str) -> None:
        with self.store.sessions.begin() as s:
            row = s.scalars(select(ConsoleSession).where(ConsoleSession.token_hash == _sha(token))).first()
            if row is not None:
                user = s.get(User, row.user_id)
                s.delete(row)
                self.store.audit_event(s, user.username if user else "unknown", "logout", None, "")

    def purge_sessions(self) -> int:
        with self.store.sessions.begin() as s:
            result = s.execute(delete(ConsoleSession).where(ConsoleSession.expires_at <= datetime.now(UTC)))
            return int(getattr(result, "rowcount", 0) or 0)
