import pytest

from portal.errors import IdentityUnusable
from portal.identity import identity_from_claims, owner_value, profile_slug


@pytest.mark.parametrize("identity, slug", [
    ("alice@example.com", "alice"),
    ("John.Doe@Example.com", "john-doe"),
    ("john-doe@example.com", "john-doe"),
    ("john_doe+studio@example.com", "john-doe-studio"),
    ("  ..Weird..Name..@x", "weird-name"),
    ("no-at-sign", "no-at-sign"),
    ("DOMAIN\\User Name", "domain-user-name"),
    ("josé@example.com", "jos"),
    ("\u212aim@example.com", "im"),  # Kelvin sign is not an ASCII k
    ("a" * 80 + "@x", "a" * 63),
    ("a" * 62 + ".b@x", "a" * 62),  # cut at 63 would end in '-': trimmed
    ("1234@x", "1234"),
])
def test_profile_slug(identity, slug):
    assert profile_slug(identity) == slug


@pytest.mark.parametrize("identity", ["@example.com", "...@x", "éèà@x", "---", "\u0430\u0441@x"])
def test_identities_that_leave_nothing_valid_are_refused_not_guessed(identity):
    with pytest.raises(IdentityUnusable):
        profile_slug(identity)


def test_slugs_always_satisfy_the_profile_name_pattern():
    from portal.config import RESOURCE_NAME_PATTERN

    for identity in ["a.b.c@x", "Z" * 100, "x--y@z", "9-9", "A_" * 40]:
        assert RESOURCE_NAME_PATTERN.match(profile_slug(identity))


def test_owner_value_lowercases_ascii_only():
    assert owner_value("John.Doe@Example.COM") == "john.doe@example.com"
    # Unicode lower() would turn the Kelvin sign into "k" and collide with kim@example.com.
    assert owner_value("\u212aim@example.com") != owner_value("kim@example.com")


def test_identity_claim_is_read_and_validated():
    assert identity_from_claims({"email": " alice@example.com "}, "email") == "alice@example.com"
    assert identity_from_claims({"upn": "bob@corp"}, "upn") == "bob@corp"
    for claims in ({}, {"email": ""}, {"email": 42}, {"email": "a\nb"}, {"email": "x" * 300}):
        with pytest.raises(IdentityUnusable):
            identity_from_claims(claims, "email")


def test_unverified_email_is_refused():
    for flag in (False, "false"):
        with pytest.raises(IdentityUnusable, match="unverified"):
            identity_from_claims({"email": "alice@example.com", "email_verified": flag}, "email")
    assert identity_from_claims({"email": "a@x", "email_verified": True}, "email") == "a@x"
