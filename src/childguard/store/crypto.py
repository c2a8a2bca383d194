"""Encryption at rest for flagged excerpts (5c): AES-256-GCM from `cryptography`. The key comes from
CHILDGUARD_ENCRYPTION_KEY (base64, 32 bytes) or a key file created on first use with 0600 permissions."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..errors import ConfigError


def load_key(env_value: str | None, key_file: Path) -> bytes:
    if env_value:
        try:
            key = base64.b64decode(env_value, validate=True)
        except ValueError as exc:
            raise ConfigError("CHILDGUARD_ENCRYPTION_KEY must be base64 of 32 random bytes") from exc
        if len(key) != 32:
            raise ConfigError("CHILDGUARD_ENCRYPTION_KEY must decode to exactly 32 bytes (AES-256)")
        return key
    if key_file.exists():
        key = base64.b64decode(key_file.read_bytes().strip())
        if len(key) != 32:
            raise ConfigError(f"key file {key_file} does not hold a 32-byte key")
        return key
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = AESGCM.generate_key(bit_length=256)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(base64.b64encode(key))
    return key


class Box:
    """Seal and open short texts; each value gets its own random 96-bit nonce."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, text: str, context: bytes = b"childguard") -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, text.encode("utf-8"), context)

    def open(self, blob: bytes, context: bytes = b"childguard") -> str:
        return self._aead.decrypt(blob[:12], blob[12:], context).decode("utf-8")
