import base64
import hashlib
import json
import time
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from portal.errors import IdentityProviderUnavailable, PortalMisconfigured, SignInFailed
from portal.http import HttpError
from portal.oidc import OidcClient, pkce_challenge
from tests.support.tokens import FakeHttp, ScriptedIdentityProvider, ec_key, new_rsa_key, public_jwk


@pytest.fixture
def idp():
    return ScriptedIdentityProvider()


@pytest.fixture
def http(idp):
    return FakeHttp(idp)


@pytest.fixture
def client(idp, http):
    return OidcClient(idp.issuer, idp.client_id, "s3cret", http)


def test_authorization_request_carries_pkce_state_and_nonce(client):
    # When
    request = client.authorization_request("https://portal.example/callback")
    # Then
    query = parse_qs(urlsplit(request.url).query)
    assert request.url.startswith("https://idp.example.test/authorize?")
    assert query["response_type"] == ["code"]
    assert query["client_id"] == ["portal-client"]
    assert query["redirect_uri"] == ["https://portal.example/callback"]
    assert query["scope"] == ["openid email profile"]
    assert query["state"] == [request.state] and query["nonce"] == [request.nonce]
    assert query["code_challenge_method"] == ["S256"]
    expected = base64.urlsafe_b64encode(hashlib.sha256(request.code_verifier.encode()).digest()).rstrip(b"=")
    assert query["code_challenge"] == [expected.decode()]
    assert len(request.code_verifier) >= 43


def test_two_requests_never_share_state_nonce_or_verifier(client):
    first, second = client.authorization_request("https://p/cb"), client.authorization_request("https://p/cb")
    assert {first.state, first.nonce, first.code_verifier}.isdisjoint({second.state, second.nonce, second.code_verifier})


def test_pkce_challenge_matches_rfc7636_example():
    assert pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_valid_token_verifies_and_returns_claims(client, idp):
    token = idp.sign(idp.claims(nonce="n-1"))
    claims = client.verify_id_token(token, "n-1")
    assert claims["email"] == "alice@example.com"


# Times are offsets from the moment the test runs, not from collection: a long or busy run must not turn a token
# "issued in the future" into one issued in the past.
@pytest.mark.parametrize("overrides, refused_because", [
    ({"iss": "https://evil.example"}, "InvalidIssuerError"),
    ({"aud": "another-client"}, "InvalidAudienceError"),
    ({"exp": -120, "iat": -600}, "ExpiredSignatureError"),
    ({"iat": 600, "exp": 900}, "ImmatureSignatureError"),
    ({"nonce": "someone-elses"}, "nonce does not match"),
    ({"nonce": None}, "nonce does not match"),
    ({"exp": None}, "MissingRequiredClaimError"),
    ({"aud": ["portal-client", "other"], "azp": "other"}, "issued to another client"),
])
def test_forged_or_foreign_tokens_are_refused(client, idp, overrides, refused_because):
    # The control: the same claims untouched verify (test_valid_token_verifies_and_returns_claims); each change
    # is refused by the check meant for it.
    now = int(time.time())
    overrides = {key: now + value if key in ("iat", "exp") and isinstance(value, int) else value
                 for key, value in overrides.items()}
    claims = {key: value for key, value in (idp.claims(nonce="n-1") | overrides).items() if value is not None}
    with pytest.raises(SignInFailed, match=refused_because):
        client.verify_id_token(idp.sign(claims), "n-1")


def test_small_clock_skew_is_tolerated(client, idp):
    now = int(time.time())
    token = idp.sign(idp.claims(iat=now + 30, exp=now - 30 + 300))
    assert client.verify_id_token(token, "n-1")["sub"] == "sub-alice"


def test_alg_none_is_refused(client, idp):
    token = jwt.encode(idp.claims(), key=None, algorithm="none")
    with pytest.raises(SignInFailed, match="algorithm"):
        client.verify_id_token(token, "n-1")


def test_hs256_signed_with_the_issuers_public_key_is_refused(client, idp):
    public_pem = idp.keys["key-1"].public_key().public_bytes(
        encoding=__import__("cryptography.hazmat.primitives.serialization", fromlist=["Encoding"]).Encoding.PEM,
        format=__import__("cryptography.hazmat.primitives.serialization", fromlist=["PublicFormat"]).PublicFormat.SubjectPublicKeyInfo,
    )
    header = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "kid": "key-1"}).encode()).rstrip(b"=")
    body = base64.urlsafe_b64encode(json.dumps(idp.claims()).encode()).rstrip(b"=")
    import hmac as _hmac

    signature = base64.urlsafe_b64encode(_hmac.new(public_pem, header + b"." + body, hashlib.sha256).digest()).rstrip(b"=")
    with pytest.raises(SignInFailed, match="algorithm"):
        client.verify_id_token((header + b"." + body + b"." + signature).decode(), "n-1")


def test_token_signed_by_an_unknown_key_is_refused(client, idp):
    token = idp.sign(idp.claims(), kid="key-1", key=new_rsa_key())
    with pytest.raises(SignInFailed):
        client.verify_id_token(token, "n-1")


def test_unknown_kid_refetches_jwks_once_then_accepts_rotated_key(client, idp, http):
    client.verify_id_token(idp.sign(idp.claims()), "n-1")
    idp.keys["key-2"] = new_rsa_key()
    client._keys_fetched -= 60  # the previous fetch is older than the refetch guard
    # When the issuer rotates to key-2
    claims = client.verify_id_token(idp.sign(idp.claims(), kid="key-2"), "n-1")
    # Then one more JWKS fetch served it
    assert claims["sub"] == "sub-alice"
    assert [url for method, url, *_ in http.requests if url.endswith("/jwks")] == [
        "https://idp.example.test/jwks", "https://idp.example.test/jwks"]


def test_made_up_kids_do_not_cause_a_fetch_per_token(client, idp, http):
    client.verify_id_token(idp.sign(idp.claims()), "n-1")
    for attempt in range(5):
        with pytest.raises(SignInFailed):
            client.verify_id_token(idp.sign(idp.claims(), kid=f"bogus-{attempt}", key=new_rsa_key()), "n-1")
    assert sum(1 for _, url, *_ in http.requests if url.endswith("/jwks")) == 1


def test_single_key_jwks_serves_tokens_without_kid(client, idp):
    token = idp.sign(idp.claims(), kid=None, key=idp.keys["key-1"])
    assert client.verify_id_token(token, "n-1")["email"] == "alice@example.com"


def test_token_without_kid_is_refused_when_several_keys_are_published(client, idp):
    idp.keys["key-2"] = new_rsa_key()
    with pytest.raises(SignInFailed):
        client.verify_id_token(idp.sign(idp.claims(), kid=None, key=idp.keys["key-1"]), "n-1")


def test_algorithm_must_match_the_keys_declared_alg(client, idp):
    key = ec_key()
    idp.keys = {"ec": key}
    idp.jwks = lambda: {"keys": [public_jwk(key, "ec", alg="ES384")]}
    with pytest.raises(SignInFailed):
        client.verify_id_token(idp.sign(idp.claims(), kid="ec", key=key, alg="ES256"), "n-1")


def test_malformed_and_oversized_tokens_are_refused(client):
    for token in ("not-a-jwt", "a.b.c", "x" * 20000, ""):
        with pytest.raises(SignInFailed):
            client.verify_id_token(token, "n-1")


def test_discovery_naming_another_issuer_is_a_configuration_error(idp, http):
    idp_document = idp.discovery()
    http.idp.discovery = lambda: {**idp_document, "issuer": "https://other.example"}
    client = OidcClient(idp.issuer, idp.client_id, None, http)
    with pytest.raises(PortalMisconfigured):
        client.metadata()


def test_an_issuer_ending_in_a_slash_is_discovered_and_compared_exactly():
    # Auth0's issuer is "https://<tenant>.auth0.com/": discovery drops the final "/" before the well-known path
    # (OIDC Discovery 4.1), and the document and the tokens carry it.
    auth0 = ScriptedIdentityProvider(issuer="https://tenant.auth0.example/")
    http = FakeHttp(auth0)
    client = OidcClient(auth0.issuer, auth0.client_id, "s3cret", http)
    assert client.verify_id_token(auth0.sign(auth0.claims(nonce="n-1")), "n-1")["email"] == "alice@example.com"
    assert http.requests[0][1] == "https://tenant.auth0.example/.well-known/openid-configuration"
    with pytest.raises(SignInFailed):  # the same issuer without its "/" is another issuer
        client.verify_id_token(auth0.sign(auth0.claims(nonce="n-1", iss="https://tenant.auth0.example")), "n-1")


@pytest.mark.parametrize(("configured", "actual"), [
    ("https://idp.example.test/", "https://idp.example.test"), ("https://tenant.auth0.example", "https://tenant.auth0.example/")])
def test_an_issuer_configured_with_or_without_a_slash_it_lacks_is_the_idps_own_spelling(configured, actual, caplog):
    # Earlier versions stripped a final "/" from the configuration: the IdP's spelling is the one its tokens carry.
    idp = ScriptedIdentityProvider(issuer=actual)
    client = OidcClient(configured, idp.client_id, None, FakeHttp(idp))
    assert client.metadata().issuer == actual and "differs from the IdP's by a final '/'" in caplog.text
    assert client.verify_id_token(idp.sign(idp.claims(nonce="n-1")), "n-1")["iss"] == actual
    with pytest.raises(SignInFailed):
        client.verify_id_token(idp.sign(idp.claims(nonce="n-1", iss=configured)), "n-1")


def test_an_issuer_differing_otherwise_is_refused_naming_the_idps(idp, http):
    document = {**idp.discovery(), "issuer": "https://idp.example.test/other"}
    http.idp.discovery = lambda: document
    with pytest.raises(PortalMisconfigured) as refused:
        OidcClient(idp.issuer, idp.client_id, None, http).metadata()
    assert "'https://idp.example.test/other'" in refused.value.detail


@pytest.mark.parametrize("endpoint", ["https://portal:hunter2@idp.example.test/token",
                                      "https://portal:hun#ter2@idp.example.test/token",
                                      "https://portal:hun?ter2@idp.example.test/token", "https://[idp.example.test/token",
                                      "https://idp.example.test/token#hunter2"])
def test_discovery_with_an_endpoint_carrying_user_information_or_unreadable_is_refused_naming_no_secret(idp, http,
                                                                                                        endpoint):
    document = idp.discovery()
    http.idp.discovery = lambda: {**document, "token_endpoint": endpoint}
    with pytest.raises(IdentityProviderUnavailable) as refused:
        OidcClient(idp.issuer, idp.client_id, None, http).metadata()
    assert "hunter2" not in refused.value.detail and "ter2" not in refused.value.detail


def test_discovery_with_plain_http_endpoints_on_a_public_host_is_refused(idp, http):
    document = idp.discovery()
    http.idp.discovery = lambda: {**document, "token_endpoint": "http://idp.example.test/token"}
    with pytest.raises(IdentityProviderUnavailable):
        OidcClient(idp.issuer, idp.client_id, None, http).metadata()


def test_discovery_outage_is_reported_as_idp_unavailable(client, http):
    http.fail["/.well-known/openid-configuration"] = HttpError("boom", 503)
    with pytest.raises(IdentityProviderUnavailable):
        client.authorization_request("https://p/cb")


def test_discovery_is_cached(client, http):
    client.authorization_request("https://p/cb")
    client.authorization_request("https://p/cb")
    assert sum(1 for _, url, *_ in http.requests if url.endswith("openid-configuration")) == 1


def test_code_exchange_uses_basic_auth_with_the_client_secret(client, idp, http):
    idp.next_id_token = "the-token"
    assert client.exchange_code("the-code", "https://p/cb", "verifier-1") == "the-token"
    method, url, fields, headers = http.requests[-1]
    assert (method, url) == ("POST", "https://idp.example.test/token")
    assert fields["code"] == "the-code" and fields["code_verifier"] == "verifier-1"
    assert fields["grant_type"] == "authorization_code" and "client_secret" not in fields
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"portal-client:s3cret").decode()


def test_code_exchange_posts_the_secret_when_the_issuer_only_takes_client_secret_post(idp, http):
    document = idp.discovery()
    http.idp.discovery = lambda: {**document, "token_endpoint_auth_methods_supported": ["client_secret_post"]}
    idp.next_id_token = "t"
    OidcClient(idp.issuer, idp.client_id, "s3cret", http).exchange_code("c", "https://p/cb", "v")
    _, _, fields, headers = http.requests[-1]
    assert fields["client_secret"] == "s3cret" and "Authorization" not in headers


def test_public_client_sends_no_secret(idp, http):
    idp.next_id_token = "t"
    OidcClient(idp.issuer, idp.client_id, None, http).exchange_code("c", "https://p/cb", "v")
    _, _, fields, headers = http.requests[-1]
    assert "client_secret" not in fields and "Authorization" not in headers and fields["client_id"] == "portal-client"


def test_refused_code_is_a_sign_in_failure_and_outage_is_unavailable(client, idp, http):
    idp.token_status = 400
    with pytest.raises(SignInFailed):
        client.exchange_code("replayed", "https://p/cb", "v")
    idp.token_status = 200
    http.fail["/token"] = HttpError("down", 502)
    with pytest.raises(IdentityProviderUnavailable):
        client.exchange_code("c", "https://p/cb", "v")


def test_logout_goes_to_end_session_endpoint_or_cognito_logout(client, idp, http):
    url = client.logout_url("https://portal.example/")
    assert url.startswith("https://idp.example.test/logout?")
    assert parse_qs(urlsplit(url).query)["post_logout_redirect_uri"] == ["https://portal.example/"]
    # Cognito: no end_session_endpoint, hosted UI's /logout next to /oauth2/authorize
    cognito = ScriptedIdentityProvider(issuer="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc", end_session=False)
    document = cognito.discovery() | {"authorization_endpoint": "https://corp.auth.eu-west-1.amazoncognito.com/oauth2/authorize"}
    cognito.discovery = lambda: document
    url = OidcClient(cognito.issuer, "cid", None, FakeHttp(cognito)).logout_url("https://portal.example/")
    assert url == "https://corp.auth.eu-west-1.amazoncognito.com/logout?client_id=cid&logout_uri=https%3A%2F%2Fportal.example%2F"


def test_authorization_request_adds_the_configured_params_and_a_login_hint(idp, http):
    client = OidcClient(idp.issuer, idp.client_id, "s3cret", http,
                        authorize_params=(("identity_provider", "CorpOkta"), ("login_hint", "x@corp")))
    plain = parse_qs(urlsplit(client.authorization_request("https://p/cb").url).query)
    assert plain["identity_provider"] == ["CorpOkta"] and plain["login_hint"] == ["x@corp"]
    hinted = parse_qs(urlsplit(client.authorization_request("https://p/cb", login_hint="a b@corp").url).query)
    assert hinted["login_hint"] == ["a b@corp"] and hinted["identity_provider"] == ["CorpOkta"]
    assert hinted["response_type"] == ["code"] and len(hinted["state"]) == 1
    # A configured hint spelt in another case is replaced too: one login_hint reaches the IdP
    other_case = OidcClient(idp.issuer, idp.client_id, "s3cret", http, authorize_params=(("Login_Hint", "x@corp"),))
    sent = parse_qs(urlsplit(other_case.authorization_request("https://p/cb", login_hint="a@corp").url).query)
    assert [name for name in sent if name.lower() == "login_hint"] == ["login_hint"] and sent["login_hint"] == ["a@corp"]
