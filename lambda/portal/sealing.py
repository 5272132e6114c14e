"""Encrypted, authenticated cookie values: AES-256-GCM.

Each secret in the configured list yields one key per purpose through HKDF, so a value sealed for one
cookie never opens as another, and a value sealed with an older listed secret still opens (rotation: put
the new secret first, keep the old one until the longest cookie lifetime has passed).

A sealed value is base64url, unpadded, of: a format byte, a random 96-bit nonce, and the GCM ciphertext
with its tag; the purpose is the associated data. AES-GCM rather than Fernet because every launch opens
the session cookie: Fernet builds fresh HMAC and AES-CBC contexts per value, which took about 180 µs of
each warm launch in the benchmark's Lambda-like processes; an AESGCM object keeps its key, and opening
takes about 80 µs there (25 µs with warm caches). Random nonces: a transaction cookie is sealed for every
request without a session, which anyone can send, but even at the API's throttle limit it would take years
to approach the 2^32 seals per key that random 96-bit nonces allow; rotating the key starts the count anew.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import time
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_SALT = b"sagemaker-studio-portal/cookie/v2"
_FORMAT = b"\x02"
_NONCE_BYTES = 12
_TAG_BYTES = 16
# Far above any legitimate cookie; refuse to spend CPU on anything larger.
MAX_SEALED_LENGTH = 3800
# The unpadded base64url alphabet only: the decoder would otherwise skip characters it does not know.
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


def _derive(secret: str, purpose: str) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=purpose.encode()).derive(secret.encode())
    return AESGCM(key)


class Sealer:
    """Seals and opens JSON payloads for one purpose (one cookie name)."""

    def __init__(self, secrets: tuple[str, ...], purpose: str):
        if not secrets:
            raise ValueError("at least one secret is required")
        self._purpose = purpose.encode()
        self._keys = [_derive(secret, purpose) for secret in secrets]

    def seal(self, payload: dict[str, Any], lifetime_seconds: int, now: float | None = None) -> str:
        now = time.time() if now is None else now
        body = dict(payload, exp=int(now) + lifetime_seconds)
        plain = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
        nonce = os.urandom(_NONCE_BYTES)
        sealed = _FORMAT + nonce + self._keys[0].encrypt(nonce, plain, self._purpose)
        return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")

    def open(self, sealed: str | None, now: float | None = None) -> dict[str, Any] | None:
        """The payload, or None for anything missing, tampered, foreign or expired."""
        if not sealed or len(sealed) > MAX_SEALED_LENGTH or not _BASE64URL.fullmatch(sealed):
            return None
        try:
            raw = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
        except (binascii.Error, ValueError):
            return None
        # One spelling per value: the decoder ignores a last character's unused bits.
        if base64.urlsafe_b64encode(raw).rstrip(b"=") != sealed.encode("ascii"):
            return None
        if len(raw) <= 1 + _NONCE_BYTES + _TAG_BYTES or raw[:1] != _FORMAT:
            return None
        nonce, box = raw[1:1 + _NONCE_BYTES], raw[1 + _NONCE_BYTES:]
        for key in self._keys:
            try:
                plain = key.decrypt(nonce, box, self._purpose)
                break
            except InvalidTag:
                continue
        else:
            return None
        try:
            payload = json.loads(plain)
        except ValueError:  # UnicodeDecodeError included
            return None
        if not isinstance(payload, dict):
            return None
        expires = payload.get("exp")
        if not isinstance(expires, int) or expires <= (time.time() if now is None else now):
            return None
        return payload
