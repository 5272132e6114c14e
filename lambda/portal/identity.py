"""Who the signed-in person is, and which Studio user profile name that identity maps to.

Only ASCII letters are lower-cased, on purpose: Python's Unicode lower() folds look-alikes such as
the Kelvin sign (U+212A) into ASCII "k", which would let a confusable identity pass an equality check
against someone else's owner tag. Non-ASCII characters therefore never match ASCII ones.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from portal.errors import IdentityUnusable, SignInFailed
from portal.i18n import N_
from portal.settings_catalog import RESOURCE_NAME_PATTERN

PROFILE_NAME_MAX = 63
# A `{claim}` placeholder of a target's profile template.
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_ASCII_UPPER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
MAX_IDENTITY_LENGTH = 256
# Control, format (zero-width, bidi), and every kind of space or line/paragraph separator: invisible or
# ambiguous in an identity, so refused rather than removed ("alice@corp\u00a0" is not Alice).
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})
# The owner tag (on profiles, and as an STS session tag) must carry the identity, and tag values allow only
# [\p{L}\p{Z}\p{N}_.:/=+\-@] (botocore's SageMaker TagValue and STS tagValueType shapes).
_TAG_VALUE_SYMBOLS = frozenset("_.:/=+-@")


def ascii_lower(value: str) -> str:
    # str.lower lowers only A-Z in an ASCII string, and is much faster than translate.
    return value.lower() if value.isascii() else value.translate(_ASCII_UPPER)


def owner_value(identity: str) -> str:
    """The value a profile's owner tag must carry for this identity."""
    return ascii_lower(identity)


def _trimmed(name: str) -> str:
    """Runs of '-' to one, none at either end, at most 63 characters (cutting may leave a trailing '-', which
    the profile name pattern forbids)."""
    return re.sub(r"-{2,}", "-", name).strip("-")[:PROFILE_NAME_MAX].rstrip("-")


def profile_slug(identity: str) -> str:
    """Email local part (or the whole value), lower-cased, runs of other characters to one '-'."""
    local_part = identity.split("@", 1)[0] if "@" in identity else identity
    slug = _trimmed(_NOT_SLUG.sub("-", ascii_lower(local_part)))
    if not slug:
        raise IdentityUnusable("the identity has no letters or digits to form a Studio profile name")
    return slug


def profile_name_from_template(template: str, claims: Mapping[str, Any]) -> str:
    """The Studio profile name a target's template gives these claims: each `{claim}` mapped as the default is
    (profile_slug), the whole trimmed the same way and checked against SageMaker's UserProfileName pattern."""
    used = tuple((name, claims.get(name)) for name in _placeholders(template))
    if all(isinstance(value, str | None) for _, value in used):
        # Every launch maps the same few claims again: a pure function of them, remembered (failures are not).
        return _profile_name(template, used)
    return _render_profile_name(template, claims)


@lru_cache(maxsize=64)
def _placeholders(template: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(PLACEHOLDER.findall(template)))


@lru_cache(maxsize=4096)
def _profile_name(template: str, used: tuple[tuple[str, str | None], ...]) -> str:
    return _render_profile_name(template, {name: value for name, value in used if value is not None})


def _render_profile_name(template: str, claims: Mapping[str, Any]) -> str:
    name = _trimmed(PLACEHOLDER.sub(lambda match: profile_slug(claim_value(dict(claims), match.group(1))), template))
    if not RESOURCE_NAME_PATTERN.fullmatch(name):
        raise IdentityUnusable("your identity does not form a valid Studio profile name")
    return name


def email_verified(claims: dict) -> bool:
    """Only JSON true or the string "true" (any case, as Cognito passes federated attributes) say verified;
    a missing claim, false, "False", "no", 0 or null do not."""
    flag = claims.get("email_verified")
    return flag is True or (isinstance(flag, str) and flag.lower() == "true")


def identity_from_claims(claims: dict, claim_name: str, *, email_must_be_verified: bool) -> str:
    """The identity claim as a non-empty string; with `email_must_be_verified` (the identity or a profile
    template uses `email`), only when the IdP says it verified the address."""
    if email_must_be_verified and not email_verified(claims):
        # Anyone can put a colleague's address on a second account at an IdP that does not verify it.
        raise SignInFailed("the identity provider did not report the e-mail address as verified",
                           message=N_("Your identity provider did not confirm that your e-mail address is verified, "
                                      "so the portal can't use it to find your Studio."))
    identity = claim_value(claims, claim_name)
    untaggable = sorted({ch for ch in identity if not _taggable(ch)})
    if untaggable:
        # No profile could carry this identity as its owner tag, and STS would refuse it as a session tag.
        raise IdentityUnusable(f"the {claim_name!r} claim holds characters a tag value cannot",
                               message=N_("Your identity holds characters that AWS tags can't carry "
                                          "(%(characters)s), so no Studio profile can be registered to it. Ask your "
                                          "IT team to give your account an identity without them.",
                                          characters=" ".join(untaggable)))
    return identity


def _taggable(ch: str) -> bool:
    return ch in _TAG_VALUE_SYMBOLS or unicodedata.category(ch)[0] in "LN"


def claim_value(claims: dict, claim_name: str) -> str:
    """A claim that names a person (the identity, or a profile template's placeholder), exactly as sent:
    refused, never cleaned, when it is empty, too long, padded, or holds an invisible or separator character."""
    value = claims.get(claim_name)
    if not isinstance(value, str) or not value:
        raise IdentityUnusable(f"the sign-in did not include the {claim_name!r} claim")
    if (len(value) > MAX_IDENTITY_LENGTH or value != value.strip()
            or any(unicodedata.category(ch) in _UNSAFE_CATEGORIES for ch in value)):
        raise IdentityUnusable(f"the {claim_name!r} claim is not a usable identity",
                               message=N_("The identity your sign-in carries holds spaces or invisible characters, "
                                          "so the portal can't match it exactly to a Studio profile."))
    return value
