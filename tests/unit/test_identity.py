import pytest

from portal.errors import IdentityUnusable, SignInFailed
from portal.identity import identity_from_claims, owner_value, profile_slug


@pytest.mark.parametrize("identity, slug", [
    ("alice@example.com", "alice"),
    ("John.Doe@Example.com", "john-doe"),
    ("john-doe@example.com", "john-doe"),
    ("john_doe+studio@example.com", "john-doe-studio"),
    ("..Weird..Name..@x", "weird-name"),
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
    from portal.settings_catalog import RESOURCE_NAME_PATTERN

    for identity in ["a.b.c@x", "Z" * 100, "x--y@z", "9-9", "A_" * 40]:
        assert RESOURCE_NAME_PATTERN.match(profile_slug(identity))


def test_owner_value_lowercases_ascii_only():
    assert owner_value("John.Doe@Example.COM") == "john.doe@example.com"
    # Unicode lower() would turn the Kelvin sign into "k" and collide with kim@example.com.
    assert owner_value("\u212aim@example.com") != owner_value("kim@example.com")


VERIFIED = {"email_verified": True}


def test_identity_claim_is_read_and_validated():
    assert identity_from_claims({"email": "alice@example.com"} | VERIFIED, "email",
                                email_must_be_verified=True) == "alice@example.com"
    assert identity_from_claims({"upn": "bob@corp"}, "upn", email_must_be_verified=False) == "bob@corp"
    for claims in ({}, {"email": ""}, {"email": 42}, {"email": "a\nb"}, {"email": "x" * 300}):
        with pytest.raises(IdentityUnusable):
            identity_from_claims(claims | VERIFIED, "email", email_must_be_verified=True)


@pytest.mark.parametrize("padded", [
    " alice@example.com", "alice@example.com ", "alice@example.com\u00a0", "alice@example.com\u2028",
    "\u3000alice@example.com", "alice@example.com\u2029", "ali\u200bce@example.com", "alice\u00ad@example.com",
    "alice@example.com\u200e", "\ufeffalice@example.com", "alice @example.com", "alice@example.com\t",
    "alice@exa\x85mple.com", "alice@example.com\u180e",
])
def test_padded_or_invisible_identities_are_refused_never_cleaned(padded):
    with pytest.raises(IdentityUnusable, match="not a usable identity"):
        identity_from_claims({"email": padded} | VERIFIED, "email", email_must_be_verified=True)


@pytest.mark.parametrize("flag", [None, False, "false", "False", "FALSE", "no", "0", 0, 1, "yes", "", [True]])
def test_an_email_is_an_identity_only_when_verified(flag):
    claims = {"email": "alice@example.com"} | ({} if flag is None else {"email_verified": flag})
    with pytest.raises(SignInFailed, match="verified"):
        identity_from_claims(claims, "email", email_must_be_verified=True)


@pytest.mark.parametrize("flag", [True, "true", "TRUE", "True"])
def test_verified_is_json_true_or_the_string_true(flag):
    claims = {"email": "alice@example.com", "email_verified": flag}
    assert identity_from_claims(claims, "email", email_must_be_verified=True) == "alice@example.com"


def test_the_verified_check_is_the_callers_choice():
    assert identity_from_claims({"email": "a@x"}, "email", email_must_be_verified=False) == "a@x"


def _settings(**env):
    from portal.config import load_settings

    return load_settings({"PORTAL_OIDC_ISSUER": "https://idp.example", "PORTAL_OIDC_CLIENT_ID": "c",
                          "PORTAL_SESSION_KEY": "k" * 40, "PORTAL_DOMAIN_ID": "d-abc"} | env)


def test_verification_is_required_whenever_email_names_someone():
    assert _settings().email_must_be_verified
    assert not _settings(PORTAL_IDENTITY_CLAIM="sub").email_must_be_verified
    targets = '[{"id": "a", "domain_id": "d-abc", "profile": "{email}-ml"}]'
    assert _settings(PORTAL_IDENTITY_CLAIM="sub", PORTAL_TARGETS=targets, PORTAL_DOMAIN_ID="").email_must_be_verified
    assert not _settings(PORTAL_REQUIRE_VERIFIED_EMAIL="false").email_must_be_verified
    from portal.config import ConfigError

    with pytest.raises(ConfigError, match="PORTAL_REQUIRE_VERIFIED_EMAIL"):
        _settings(PORTAL_REQUIRE_VERIFIED_EMAIL="maybe")


@pytest.mark.parametrize("identity", ["o'brien@example.com", "alice!@example.com", "a#b@example.com",
                                      "r&d@example.com", "x,y@example.com", "(a)@example.com", "u\u0308ber@x.example"])
def test_identities_no_tag_value_can_hold_are_refused_with_a_clear_page(identity):
    with pytest.raises(IdentityUnusable, match="tag value") as refused:
        identity_from_claims({"email": identity} | VERIFIED, "email", email_must_be_verified=True)
    assert "AWS tags can't carry" in refused.value.page_context["message"].msgid


@pytest.mark.parametrize("identity", ["jürgen.müller@corp.example", "名前@例え.jp", "a_b.c:d/e=f+g-h@i.example",
                                      "12345678-abcd"])
def test_identities_tag_values_can_hold_pass(identity):
    assert identity_from_claims({"email": identity} | VERIFIED, "email", email_must_be_verified=True) == identity


def test_remembered_profile_names_follow_the_claims_and_never_remember_a_refusal():
    from portal.identity import profile_name_from_template

    template = "{email}-{team}"
    assert profile_name_from_template(template, {"email": "ann@x.example", "team": "ml"}) == "ann-ml"
    assert profile_name_from_template(template, {"email": "ann@x.example", "team": "ds"}) == "ann-ds"
    assert profile_name_from_template(template, {"email": "bob@x.example", "team": "ml"}) == "bob-ml"
    for _ in range(2):  # refused each time, never a remembered answer
        with pytest.raises(IdentityUnusable):
            profile_name_from_template(template, {"email": "ann@x.example"})
        with pytest.raises(IdentityUnusable):
            profile_name_from_template(template, {"email": "ann@x.example", "team": " ml"})
    # Claims that are not strings take the uncached path and are refused the same way
    with pytest.raises(IdentityUnusable):
        profile_name_from_template(template, {"email": "ann@x.example", "team": ["ml"]})
