"""The revocation record: the tag `python -m portal.admin revoke` puts on a withdrawn profile.

While a profile carries `studioportal:revoked`, the presigning roles' IAM Deny matches it (so no URL is minted
and open Studio sessions stop at their next request) and the portal shows "access withdrawn". The tag's value
records when and whose: `<UTC time> <owner tag value>`, for example `2026-12-01T08:44:20Z alice@example.com`.
The owner value is kept verbatim so that `restore` can put the owner tag back exactly; it was a tag value
already, so it is within SageMaker's tag value characters, and the time uses only digits, '-', ':', 'T', 'Z'.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

REVOKED_TAG = "studioportal:revoked"
TAG_VALUE_MAX = 256
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_RECORD = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)(?: (.+))?", re.DOTALL)


@dataclass(frozen=True)
class Revocation:
    at: str  # UTC, as written
    owner: str | None  # the owner tag's value before the revoke; None when it was too long to record

    def names(self, owner: str) -> bool:
        """Whether this record withdrew `owner`'s access (exact comparison)."""
        return self.owner is not None and same_owner(self.owner, owner)


def same_owner(tagged: str | None, owner: str) -> bool:
    return tagged is not None and hmac.compare_digest(tagged.encode(), owner.encode())


def withdraws(tags: Mapping[str, str], owner_tag: str, owner: str) -> bool:
    """Whether a profile's tags withdraw `owner`'s access: a record naming them, or a record naming no one
    (set by hand, or an owner too long to record) on a profile whose owner tag is still theirs."""
    revocation = parse(tags.get(REVOKED_TAG))
    if revocation is None:
        return False
    return revocation.names(owner) or (revocation.owner is None and same_owner(tags.get(owner_tag), owner))


def record(owner: str, when: datetime) -> str:
    """The tag value for revoking `owner` at `when`; the time alone when both would not fit in a tag value."""
    stamp = when.astimezone(UTC).strftime(_TIME_FORMAT)
    value = f"{stamp} {owner}"
    return value if len(value) <= TAG_VALUE_MAX else stamp


def parse(value: str | None) -> Revocation | None:
    """The record in a `studioportal:revoked` value; None for no tag. A value not written by `record` (set by
    hand, say) still revokes: it names no owner."""
    if value is None:
        return None
    match = _RECORD.fullmatch(value)
    if match is None:
        return Revocation(at="", owner=None)
    return Revocation(at=match.group(1), owner=match.group(2))
