"""Sign-ins in progress: one sealed transaction cookie per sign-in, named after its state.

Several sign-ins can be under way in one browser at once (a bookmark and an SSO tile, restored tabs, two links
from IT). One cookie holding a list would lose entries to its own race: tabs that start together all read the
same old list and the last write wins. So each sign-in gets its own cookie, ``__Host-portal-signin-<tag>``,
where the tag is a digest of the state: the callback finds its own cookie from the ``state`` it receives, and
a finished sign-in expires only its own. Each payload still carries its state, nonce and PKCE verifier; the
callback compares the state inside with the one it was given, so a cookie moved to another name opens nothing.

At most ``MAX_PARALLEL_SIGN_INS`` are kept, and together at most ``MAX_TRANSACTION_BYTES``, so the cookies
stay far inside the browsers' per-cookie limit (4096 bytes) and API Gateway's 10240-byte limit on the request
line and headers together; starting one more first drops the unreadable ones, then the oldest.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

from portal.sealing import Sealer

TRANSACTION_PREFIX = "__Host-portal-signin-"
MAX_PARALLEL_SIGN_INS = 4
MAX_TRANSACTION_BYTES = 4096
_TAG_LENGTH = 16
_TRANSACTION_NAME = re.compile(re.escape(TRANSACTION_PREFIX) + f"[0-9a-f]{{{_TAG_LENGTH}}}")


def cookie_name(state: str) -> str:
    return TRANSACTION_PREFIX + hashlib.sha256(state.encode()).hexdigest()[:_TAG_LENGTH]


def transaction_names(jar: Mapping[str, str]) -> list[str]:
    """The names of this browser's sign-in cookies: only those the portal could have set (they are written back,
    expired, in Set-Cookie)."""
    return [name for name in jar if _TRANSACTION_NAME.fullmatch(name)]


def to_drop(jar: Mapping[str, str], sealer: Sealer, new_size: int) -> list[str]:
    """The transaction cookies to expire so that one more of ``new_size`` bytes fits the bounds."""
    names = transaction_names(jar)
    started: dict[str, float] = {}
    for name in names:
        payload = sealer.open(jar[name])
        # Unreadable (expired, tampered, sealed under a retired key) sort first: they can complete nothing.
        value = payload.get("started") if payload else None
        started[name] = float(value) if isinstance(value, int | float) else -1.0
    kept = sorted(names, key=lambda name: (started[name], name))
    dropped: list[str] = []
    while kept and (len(kept) + 1 > MAX_PARALLEL_SIGN_INS
                    or sum(len(jar[name]) for name in kept) + new_size > MAX_TRANSACTION_BYTES):
        dropped.append(kept.pop(0))
    return dropped
