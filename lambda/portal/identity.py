"""Who the signed-in person is, and which Studio user profile name that identity maps to.

Only ASCII letters are lower-cased, on purpose: Python's Unicode lower() folds look-alikes such as
the Kelvin sign (U+212A) into ASCII "k", which would let a confusable identity pass an equality check
against someone else's owner tag. Non-ASCII characters therefore never match ASCII ones.
"""

from __future__ import annotations

import re

from portal.errors import IdentityUnusable

PROFILE_NAME_MAX = 63
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_ASCII_UPPER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
MAX_IDENTITY_LENGTH = 256


def ascii_lower(value: str) -> str:
    return value.translate(_ASCII_UPPER)


def owner_value(identity: str) -> str:
    """The value a profile's owner tag must carry for this identity."""
    return ascii_lower(identity)


def profile_slug(identity: str) -> str:
    """Email local part (or the whole value), lower-cased, runs of other characters to one '-'."""
    local_part = identity.split("@", 1)[0] if "@" in identity else identity
    slug = _NOT_SLUG.sub("-", ascii_lower(local_part)).strip("-")
    # Cutting at 63 may leave a trailing '-', which the profile name pattern forbids.
    slug = slug[:PROFILE_NAME_MAX].rstrip("-")
    if not slug:
        raise IdentityUnusable("the identity has no letters or digits to form a Studio profile name")
    return slug


def identity_from_claims(claims: dict, claim_name: str) -> str:
    """The identity claim as a non-empty string, refusing an email the IdP says is unverified."""
    value = claims.get(claim_name)
    if not isinstance(value, str) or not value.strip():
        raise IdentityUnusable(f"the sign-in did not include the {claim_name!r} claim")
    value = value.strip()
    if len(value) > MAX_IDENTITY_LENGTH or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise IdentityUnusable(f"the {claim_name!r} claim is not a usable identity")
    if claim_name == "email" and claims.get("email_verified") in (False, "false"):
        raise IdentityUnusable("the identity provider reports this email address as unverified")
    return value
