import pytest

from portal.config import ConfigError, load_settings

BASE = {
    "PORTAL_OIDC_ISSUER": "https://idp.example.com/",
    "PORTAL_OIDC_CLIENT_ID": "client",
    "PORTAL_OIDC_CLIENT_SECRET": "secret",
    "PORTAL_SESSION_KEY": "k" * 32,
    "PORTAL_DOMAIN_ID": "d-abc123",
}


def test_defaults():
    settings = load_settings(BASE)
    assert settings.oidc_issuer == "https://idp.example.com/"  # exactly as given: a final "/" is part of some issuers
    assert (settings.identity_claim, settings.owner_tag) == ("email", "studiouserid")
    assert (settings.url_expires_seconds, settings.studio_session_seconds, settings.session_ttl_seconds) == (
        30, 43200, 3600)
    assert settings.ownership_cache_seconds == 60
    assert settings.base_url is None and settings.launch_role_arn is None


def test_secrets_never_appear_in_the_settings_repr():
    assert "secret" not in repr(load_settings(BASE)).replace("client_secret", "")
    assert "kkkk" not in repr(load_settings(BASE))


def test_session_key_list_is_split_newest_first():
    settings = load_settings(BASE | {"PORTAL_SESSION_KEY": "a" * 32 + ", " + "b" * 40})
    assert settings.session_keys == ("a" * 32, "b" * 40)


@pytest.mark.parametrize("change, variable", [
    ({"PORTAL_OIDC_ISSUER": ""}, "PORTAL_OIDC_ISSUER"),
    ({"PORTAL_OIDC_ISSUER": "http://idp.example.com"}, "PORTAL_OIDC_ISSUER"),
    ({"PORTAL_OIDC_ISSUER": "idp.example.com"}, "PORTAL_OIDC_ISSUER"),
    ({"PORTAL_OIDC_CLIENT_ID": ""}, "PORTAL_OIDC_CLIENT_ID"),
    ({"PORTAL_OIDC_CLIENT_SECRET_ARN": "arn:aws:secretsmanager:x"}, "PORTAL_OIDC_CLIENT_SECRET"),
    ({"PORTAL_SESSION_KEY": ""}, "PORTAL_SESSION_KEY"),
    ({"PORTAL_SESSION_KEY": "short"}, "PORTAL_SESSION_KEY"),
    ({"PORTAL_SESSION_KEY": "k" * 32 + ",short"}, "PORTAL_SESSION_KEY"),
    ({"PORTAL_SESSION_KEY_ARN": "arn:aws:secretsmanager:x"}, "PORTAL_SESSION_KEY"),
    ({"PORTAL_DOMAIN_ID": ""}, "PORTAL_DOMAIN_ID"),
    ({"PORTAL_DOMAIN_ID": "domain-1"}, "PORTAL_DOMAIN_ID"),
    ({"PORTAL_DOMAIN_ID": "d-ABC"}, "PORTAL_DOMAIN_ID"),
    ({"PORTAL_BASE_URL": "https://p.example.com/?x=1"}, "PORTAL_BASE_URL"),
    ({"PORTAL_BASE_URL": "http://p.example.com"}, "PORTAL_BASE_URL"),
    ({"PORTAL_IDENTITY_CLAIM": "bad claim"}, "PORTAL_IDENTITY_CLAIM"),
    ({"PORTAL_OWNER_TAG": "aws:owner"}, "PORTAL_OWNER_TAG"),
    ({"PORTAL_URL_EXPIRES_SECONDS": "4"}, "PORTAL_URL_EXPIRES_SECONDS"),
    ({"PORTAL_URL_EXPIRES_SECONDS": "301"}, "PORTAL_URL_EXPIRES_SECONDS"),
    ({"PORTAL_URL_EXPIRES_SECONDS": "ten"}, "PORTAL_URL_EXPIRES_SECONDS"),
    ({"PORTAL_STUDIO_SESSION_SECONDS": "1799"}, "PORTAL_STUDIO_SESSION_SECONDS"),
    ({"PORTAL_STUDIO_SESSION_SECONDS": "43201"}, "PORTAL_STUDIO_SESSION_SECONDS"),
    ({"PORTAL_SESSION_TTL_SECONDS": "10"}, "PORTAL_SESSION_TTL_SECONDS"),
    ({"PORTAL_OWNERSHIP_CACHE_SECONDS": "-1"}, "PORTAL_OWNERSHIP_CACHE_SECONDS"),
    ({"PORTAL_OWNERSHIP_CACHE_SECONDS": "301"}, "PORTAL_OWNERSHIP_CACHE_SECONDS"),
    ({"PORTAL_OWNERSHIP_CACHE_SECONDS": "1m"}, "PORTAL_OWNERSHIP_CACHE_SECONDS"),
    ({"PORTAL_LAUNCH_ROLE_ARN": "my-role"}, "PORTAL_LAUNCH_ROLE_ARN"),
])
def test_bad_values_fail_with_the_variables_name(change, variable):
    with pytest.raises(ConfigError, match=variable):
        load_settings(BASE | change)


@pytest.mark.parametrize("raw, seconds", [("0", 0), ("300", 300), ("15", 15)])
def test_ownership_cache_lifetime_is_a_setting(raw, seconds):
    assert load_settings(BASE | {"PORTAL_OWNERSHIP_CACHE_SECONDS": raw}).ownership_cache_seconds == seconds


def test_loopback_http_issuer_is_accepted_for_local_runs():
    for issuer in ("http://127.0.0.1:9400", "http://localhost:9400", "http://[::1]:9400"):
        assert load_settings(BASE | {"PORTAL_OIDC_ISSUER": issuer}).oidc_issuer == issuer


def test_secret_arns_replace_inline_secrets_and_may_carry_the_client_id():
    env = {key: value for key, value in BASE.items()
           if key not in ("PORTAL_OIDC_CLIENT_ID", "PORTAL_OIDC_CLIENT_SECRET", "PORTAL_SESSION_KEY")}
    settings = load_settings(env | {"PORTAL_OIDC_CLIENT_SECRET_ARN": "portal/oidc-client",
                                    "PORTAL_SESSION_KEY_ARN": "arn:aws:secretsmanager:eu-west-1:1:secret:k"})
    assert settings.oidc_client_id is None and settings.session_keys == ()


def test_extra_authorize_params_are_read_in_order():
    settings = load_settings(BASE | {"PORTAL_OIDC_AUTHORIZE_PARAMS": "identity_provider=Corp%20Okta&prompt=login"})
    assert settings.oidc_authorize_params == (("identity_provider", "Corp Okta"), ("prompt", "login"))
    assert load_settings(BASE).oidc_authorize_params == ()
    # Form encoding: "+" is a space, %2B a plus, escapes of UTF-8 are characters; names may hold . _ -
    odd = load_settings(BASE | {"PORTAL_OIDC_AUTHORIZE_PARAMS": "acr_values=phr+mfa&login_hint=a%2Bb%40corp&"
                                                                "ui_locales=fr-CA&x.y-z=%C3%A9&prompt=select_account"})
    assert odd.oidc_authorize_params == (("acr_values", "phr mfa"), ("login_hint", "a+b@corp"),
                                         ("ui_locales", "fr-CA"), ("x.y-z", "é"), ("prompt", "select_account"))


@pytest.mark.parametrize("raw", [
    "state=mine", "nonce=1", "redirect_uri=https://evil.example", "client_id=other", "scope=openid",
    "response_type=token", "code_challenge=x", "code_challenge_method=plain", "identity_provider=a&State=b",
    "identity_provider", "prompt=login&prompt=consent", "=x", "a=%0a",
    # A request object's parameters replace the query's (OIDC Core 6.1, RFC 9101): state, nonce and
    # redirect_uri by another name. Any response_mode but the query's never reaches GET /callback's query.
    "request=eyJhbGciOiJub25lIn0.eyJzdGF0ZSI6Im1pbmUifQ.", "request_uri=https://evil.example/r",
    "Request_URI=urn:x", "response_mode=form_post", "%73tate=mine",
    # Names an IdP could trim or fold into one of the portal's: padded, non-ASCII look-alikes, another case twice
    "state+=x", "prompt=login&+nonce=y", "%C5%BFtate=x", "%EF%BC%B3%EF%BC%B4%EF%BC%A1%EF%BC%B4%EF%BC%A5=x",
    "prompt=login&Prompt=consent", "login_hint=a&Login_Hint=b",
    # Values that would be sent changed: an escape that is not UTF-8, a "%" that starts no escape
    "a=%E2%82", "a=%ZZ", "a=50%",
    # With prompt=none nobody without a live IdP session could sign in (OIDC Core 3.1.2.1)
    "prompt=none", "prompt=login%20none",
])
def test_authorize_params_may_not_replace_the_portals_own(raw):
    with pytest.raises(ConfigError, match="PORTAL_OIDC_AUTHORIZE_PARAMS"):
        load_settings(BASE | {"PORTAL_OIDC_AUTHORIZE_PARAMS": raw})


def test_login_initiators_title_and_helpdesk():
    settings = load_settings(BASE | {"PORTAL_LOGIN_INITIATORS": "https://corp.okta.com/, https://login.example.com",
                                     "PORTAL_TITLE": "Acme ML", "PORTAL_HELPDESK": "mailto:help@acme.example"})
    assert settings.login_initiators == ("https://corp.okta.com/", "https://login.example.com")
    assert (settings.title, settings.helpdesk) == ("Acme ML", "mailto:help@acme.example")
    defaults = load_settings(BASE)
    assert (defaults.login_initiators, defaults.title, defaults.helpdesk) == ((), "SageMaker Studio", None)


@pytest.mark.parametrize("change, variable", [
    ({"PORTAL_LOGIN_INITIATORS": "http://corp.okta.com"}, "PORTAL_LOGIN_INITIATORS"),
    ({"PORTAL_LOGIN_INITIATORS": "corp.okta.com"}, "PORTAL_LOGIN_INITIATORS"),
    ({"PORTAL_TITLE": "x" * 81}, "PORTAL_TITLE"),
    ({"PORTAL_HELPDESK": "call\n555"}, "PORTAL_HELPDESK"),
])
def test_bad_sign_in_and_page_settings_name_the_variable(change, variable):
    with pytest.raises(ConfigError, match=variable):
        load_settings(BASE | change)
