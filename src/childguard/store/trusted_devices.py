"""Device cookies for the console sign-in (OWASP's answer to lockout as a weapon): a browser that signed
in to an account before carries a token signed with the store key for that username, and others'
failures do not make that browser wait. Stateless (nothing stored; a new store key revokes them all),
and a device that fails itself is backed off like any address."""

from __future__ import annotations

import base64
import hmac
import secrets

from .store import Store

MAX_TOKEN = 120


class TrustedDevices:
    def __init__(self, store: Store) -> None:
        self.store = store

    def _mac(self, username: str, nonce: str) -> str:
        raw = self.store.sign(f"console-device\x00{username}\x00{nonce}".encode())[:18]
        return base64.urlsafe_b64encode(raw).decode()

    def issue(self, username: str) -> str:
        nonce = secrets.token_urlsafe(12)
        return f"{nonce}.{self._mac(username, nonce)}"

    def nonce_if_valid(self, token: str | None, username: str) -> str | None:
        """The device's id when `token` was issued for `username`; None otherwise."""
        if not token or len(token) > MAX_TOKEN or token.count(".") != 1:
            return None
        nonce, mac = token.split(".")
        return nonce if hmac.compare_digest(mac, self._mac(username, nonce)) else None
