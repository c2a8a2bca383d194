"""Moderator accounts and console sessions (4i: human oversight needs to know who looked at what).

Passwords are hashed with argon2id; sessions live server-side and the cookie carries only a random
token whose SHA-256 is stored, so a copy of the database cannot be replayed as a login. Repeated
failures lock the account for a while; every login, failure and logout goes to the audit log."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select

from ..errors import AuthError, InvalidInputError, NotFoundError
from .models import ConsoleSession, User
from .store import Store, _utc

ROLES = ("moderator", "admin")
MIN_PASSWORD = 12
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
# spent on unknown usernames too, so timing does not tell which usernames exist
_DUMMY_HASH = PasswordHasher().hash("childguard-timing-equaliser")


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
                 lockout_minutes: float = 15.0) -> None:
        self.store = store
        self.hasher = PasswordHasher()
        self.session_ttl = timedelta(hours=session_hours)
        self.max_failures, self.lockout = max_failures, timedelta(minutes=lockout_minutes)

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

    def login(self, username: str, password: str) -> tuple[str, SessionInfo]:
        """Return (cookie token, session). One error for every failure, so it never says which part was
        wrong or whether the account exists. Failures are committed (audit entry, failure count) before
        the error is raised."""
        now = datetime.now(UTC)
        result: tuple[str, SessionInfo] | None = None
        with self.store.sessions.begin() as s:
            user = s.scalars(select(User).where(User.username == username)).first()
            if user is None:
                self._verify(_DUMMY_HASH, password)
                self.store.audit_event(s, "anonymous", "login_failed", None, "unknown user")
            elif user.disabled or (user.locked_until and _utc(user.locked_until) > now):
                self.store.audit_event(s, username, "login_refused", None, "disabled" if user.disabled else "locked")
            elif not self._verify(user.password_hash, password):
                user.failed_logins += 1
                detail = f"{user.failed_logins} consecutive"
                if user.failed_logins >= self.max_failures:
                    user.locked_until, user.failed_logins = now + self.lockout, 0
                    detail += f"; locked for {int(self.lockout.total_seconds() // 60)} min"
                self.store.audit_event(s, username, "login_failed", None, detail)
            else:
                if self.hasher.check_needs_rehash(user.password_hash):
                    user.password_hash = self.hasher.hash(password)
                user.failed_logins, user.locked_until = 0, None
                token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
                s.add(ConsoleSession(token_hash=_sha(token), user_id=user.id, csrf=csrf, created_at=now,
                                     expires_at=now + self.session_ttl))
                self.store.audit_event(s, username, "login", None, user.role)
                result = (token, SessionInfo(user.id, user.username, user.role, csrf))
        if result is None:
            raise AuthError("wrong username or password, or the account is locked; try again later")
        return result

    def _verify(self, hashed: str, password: str) -> bool:
        try:
            return bool(self.hasher.verify(hashed, password))
        except (VerificationError, InvalidHashError):
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
