"""Encrypted, authenticated cookie values.

Each secret in the configured list yields one Fernet key per purpose through HKDF, so a value sealed
for one cookie never opens as another, and a value sealed with an older listed secret still opens
(rotation: put the new secret first, keep the old one until the longest cookie lifetime has passed).
"""

from __future__ import annotations

import base64
import json
import re
import time
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_SALT = b"sagemaker-studio-portal/cookie/v1"
# Far above any legitimate cookie; refuse to spend CPU on anything larger.
MAX_SEALED_LENGTH = 3800
# Fernet's base64 decoder tolerates trailing junk; accept only the canonical form it produces.
_CANONICAL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")


def _derive(secret: str, purpose: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=purpose.encode()).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


class Sealer:
    """Seals and opens JSON payloads for one purpose (one cookie name)."""

    def __init__(self, secrets: tuple[str, ...], purpose: str):
        if not secrets:
            raise ValueError("at least one secret is required")
        self._fernet = MultiFernet([_derive(secret, purpose) for secret in secrets])

    def seal(self, payload: dict[str, Any], lifetime_seconds: int, now: float | None = None) -> str:
        now = time.time() if now is None else now
        body = dict(payload, exp=int(now) + lifetime_seconds)
        plain = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
        return self._fernet.encrypt_at_time(plain, int(now)).decode()

    def open(self, sealed: str | None, now: float | None = None) -> dict[str, Any] | None:
        """The payload, or None for anything missing, tampered, foreign or expired."""
        if not sealed or len(sealed) > MAX_SEALED_LENGTH or not _CANONICAL.match(sealed):
            return None
        now = time.time() if now is None else now
        try:
            plain = self._fernet.decrypt(sealed.encode("ascii"))
            payload = json.loads(plain)
        except (InvalidToken, UnicodeError, ValueError):
            return None
        if not isinstance(payload, dict):
            return None
        expires = payload.get("exp")
        if not isinstance(expires, int) or expires <= now:
            return None
        return payload
