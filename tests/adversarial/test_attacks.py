"""Attacks against the handler, with an identity provider whose keys and tokens the test controls.

Each test names the threat it covers in docs/threat-model.md."""

import base64
import datetime
import hashlib
import hmac
import json
import logging
import time
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from botocore.stub import Stubber
from cryptography.hazmat.primitives import serialization

from portal import runtime
from portal.aws import AwsGateway, Space, UserProfile
from portal.runtime import SESSION_COOKIE, TRANSACTION_COOKIE
from portal.sealing import Sealer
from portal.settings_catalog import BY_ENV
from portal.signin import cookie_name
from tests.support.events import header, set_cookies
from tests.support.harness import BASE, PRESIGNED, Portal
from tests.support.tokens import new_rsa_key


@pytest.fixture
def portal():
    yield Portal()
    runtime.reset()


def start(portal):
    response = portal.get("/")
    query = parse_qs(urlsplit(header(response, "Location")).query)
    return query["state"][0], query["nonce"][0]


def finish(portal, token, state):
    portal.idp.next_id_token = token
    return portal.get(f"/callback?code=c0de&state={state}")


def assert_refused(response, portal):
    assert response["statusCode"] in (400, 401, 403), response["statusCode"]
    assert SESSION_COOKIE not in portal.cookies
    assert "Traceback" not in response["body"]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_made(header_: dict, claims: dict, signature: bytes = b"") -> str:
    head, body = b64(json.dumps(header_).encode()), b64(json.dumps(claims).encode())
    return f"{head}.{body}.{b64(signature)}"


# -- T1 forged ID tokens ----------------------------------------------------------------------------
def forged_tokens(portal, nonce):
    idp, now = portal.idp, int(time.time())
    good = idp.claims(nonce=nonce)
    public_pem = idp.keys["key-1"].public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    hs_header = {"alg": "HS256", "typ": "JWT", "kid": "key-1"}
    unsigned = hand_made(hs_header, good)
    hs256 = unsigned.rsplit(".", 1)[0]
    hs256 += "." + b64(hmac.new(public_pem, hs256.encode(), hashlib.sha256).digest())
    return {
        "alg none": hand_made({"alg": "none", "typ": "JWT"}, good),
        "alg None with kid": hand_made({"alg": "None", "kid": "key-1"}, good),
        "HS256 keyed with the issuer's public key": hs256,
        "signed by an unknown key": idp.sign(good, kid="key-1", key=new_rsa_key()),
        "unknown kid": idp.sign(good, kid="attacker", key=new_rsa_key()),
        "wrong iss": idp.sign(good | {"iss": "https://evil.example"}),
        "wrong aud": idp.sign(good | {"aud": "someone-else"}),
        "token for another client (azp)": idp.sign(good | {"aud": ["portal-client", "other"], "azp": "other"}),
        "expired": idp.sign(good | {"exp": now - 3600, "iat": now - 7200}),
        "issued in the future": idp.sign(good | {"iat": now + 3600, "exp": now + 7200}),
        "missing nonce": idp.sign({k: v for k, v in good.items() if k != "nonce"}),
        "wrong nonce": idp.sign(good | {"nonce": "replayed-from-elsewhere"}),
        "missing identity claim": idp.sign({k: v for k, v in good.items() if k != "email"}),
        "identity claim not a string": idp.sign(good | {"email": ["alice@example.com"]}),
        "missing exp": idp.sign({k: v for k, v in good.items() if k != "exp"}),
        "signature stripped": idp.sign(good).rsplit(".", 1)[0] + ".",
        "payload swapped under a valid signature": (
            idp.sign(good).split(".")[0] + "." + b64(json.dumps(good | {"email": "bob@example.com"}).encode())
            + "." + idp.sign(good).split(".")[2]),
        "not a JWT": "garbage",
        "oversized": "a" * 20000,
    }


# Why each forgery must be refused: the check that refused it (the "request refused" log line's detail).
REFUSED_BECAUSE = {
    "alg none": "algorithm that is not allowed",
    "alg None with kid": "algorithm that is not allowed",
    "HS256 keyed with the issuer's public key": "algorithm that is not allowed",
    "signed by an unknown key": "did not verify: InvalidSignatureError",
    "unknown kid": "signed by a key the issuer does not publish",
    "wrong iss": "did not verify: InvalidIssuerError",
    "wrong aud": "did not verify: InvalidAudienceError",
    "token for another client (azp)": "issued to another client",
    "expired": "did not verify: ExpiredSignatureError",
    "issued in the future": "did not verify: ImmatureSignatureError",
    "missing nonce": "nonce does not match this sign-in",
    "wrong nonce": "nonce does not match this sign-in",
    "missing identity claim": "did not include the 'email' claim",
    "identity claim not a string": "did not include the 'email' claim",
    "missing exp": "did not verify: MissingRequiredClaimError",
    "signature stripped": "did not verify: InvalidSignatureError",
    "payload swapped under a valid signature": "did not verify: InvalidSignatureError",
    "not a JWT": "the ID token is malformed",
    "oversized": "the ID token is too large",
}


@pytest.fixture
def refusals():
    """The details of the portal's "request refused" log lines, as they are written."""
    details: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage() == "request refused":
                details.append(str(getattr(record, "detail", "")))

    handler_ = Collect()
    logging.getLogger(BY_ENV["POWERTOOLS_SERVICE_NAME"].default).addHandler(handler_)
    yield details
    logging.getLogger(BY_ENV["POWERTOOLS_SERVICE_NAME"].default).removeHandler(handler_)


def test_T1_the_untampered_token_signs_in(portal, refusals):
    # The control: the very token the forgeries below start from, untouched, opens a session by the same path.
    state, nonce = start(portal)
    portal.expect_launch()  # the callback launches at once
    response = finish(portal, portal.idp.sign(portal.idp.claims(nonce=nonce)), state)
    assert response["statusCode"] == 302 and SESSION_COOKIE in portal.cookies
    assert refusals == []


def test_T1_every_forgery_has_its_reason():
    assert set(REFUSED_BECAUSE) == set(forged_tokens(Portal(), "n"))


@pytest.mark.parametrize("forgery", list(forged_tokens(Portal(), "n")))
def test_T1_forged_id_tokens_never_open_a_session(portal, refusals, forgery):
    state, nonce = start(portal)
    response = finish(portal, forged_tokens(portal, nonce)[forgery], state)
    assert_refused(response, portal)
    # Refused by the check meant for it, not by an accident earlier on
    assert len(refusals) == 1 and REFUSED_BECAUSE[forgery] in refusals[0], refusals


# -- T2 the flow ------------------------------------------------------------------------------------
def test_T2_login_csrf_with_another_browsers_state(portal):
    start(portal)  # the victim started a sign-in of their own
    attacker = Portal()
    attacker_state, attacker_nonce = start(attacker)
    # The attacker's own code and state, replayed into the victim's browser
    token = attacker.idp.sign(attacker.idp.claims(nonce=attacker_nonce, email="mallory@example.com"))
    response = finish(portal, token, attacker_state)
    assert_refused(response, portal)


def test_T2_replayed_callback_is_refused(portal):
    state, nonce = start(portal)
    transaction = portal.cookies[cookie_name(state)]
    portal.expect_launch()
    assert finish(portal, portal.idp.sign(portal.idp.claims(nonce=nonce)), state)["statusCode"] == 302
    # The same callback again, with the old transaction cookie: the IdP refuses the used code
    portal.cookies = {cookie_name(state): transaction}
    portal.idp.token_status = 400
    assert_refused(portal.get(f"/callback?code=c0de&state={state}"), portal)


@pytest.mark.parametrize("query", [
    "error=access_denied&error_description=User+cancelled",
    "error=<script>alert(1)</script>",
    "code=" + "x" * 5000 + "&state=s",
    "code=abc&state=" + "s" * 5000,
    "code=%00%01&state=s",
    "code=a&code=b&state=s",
    "",
])
def test_T2_idp_errors_and_malformed_callbacks(portal, query):
    start(portal)
    response = portal.get(f"/callback?{query}")
    assert_refused(response, portal)
    assert "<script>alert" not in response["body"]  # the page's own script is its only one


# -- T3 cookies -------------------------------------------------------------------------------------
def signed_in(portal):
    state, nonce = start(portal)
    finish(portal, portal.idp.sign(portal.idp.claims(nonce=nonce)), state)
    return portal.cookies[SESSION_COOKIE]


@pytest.mark.parametrize("mangle", [
    lambda value, portal: value[:-1],
    lambda value, portal: value[: len(value) // 2],
    lambda value, portal: value[:40] + ("A" if value[40] != "A" else "B") + value[41:],
    lambda value, portal: "",
    lambda value, portal: "x" * 10000,
    lambda value, portal: Sealer(("another-deployment-" * 3,), SESSION_COOKIE).seal({"sub": "alice@example.com",
                                                                                       "iss": portal.idp.issuer}, 600),
    lambda value, portal: Sealer(("s" * 48,), SESSION_COOKIE).seal({"sub": "alice@example.com",
                                                                    "iss": portal.idp.issuer}, -10),
    lambda value, portal: Sealer(("s" * 48,), TRANSACTION_COOKIE).seal({"sub": "alice@example.com",
                                                                        "iss": portal.idp.issuer}, 600),
], ids=["truncated-1", "truncated-half", "bit-flip", "empty", "huge", "other-deployment", "expired",
        "sealed-as-the-other-cookie"])
def test_T3_bad_session_cookies_mean_signed_out(portal, mangle):
    value = signed_in(portal)
    portal.cookies = {SESSION_COOKIE: mangle(value, portal)}
    response = portal.get("/")
    assert response["statusCode"] == 302
    assert header(response, "Location").startswith(portal.idp.issuer + "/authorize")


def test_T3_transaction_cookie_in_the_session_slot_and_back(portal):
    first_state, _ = start(portal)
    transaction = portal.cookies[cookie_name(first_state)]
    portal.cookies = {SESSION_COOKIE: transaction}
    assert header(portal.get("/"), "Location").startswith(portal.idp.issuer + "/authorize")
    session = signed_in(portal)
    portal.cookies = {}
    state, _ = start(portal)
    portal.cookies = {cookie_name(state): session}
    assert_refused(portal.get(f"/callback?code=c&state={state}"), portal)


def test_T3_many_and_duplicate_cookies(portal):
    value = signed_in(portal)
    jar = {f"c{i}": "v" * 100 for i in range(50)}
    portal.cookies = {**jar, SESSION_COOKIE: value}
    portal.expect_launch()
    assert portal.get("/")["statusCode"] == 302


# -- T4 redirects -----------------------------------------------------------------------------------
OPEN_REDIRECTS = [
    "//evil.example", "/\\evil.example", "/%5Cevil.example", "https://evil.example", "/%2F%2Fevil.example",
    "/\r\nLocation: https://evil.example", "/%0d%0aSet-Cookie:x=y", "javascript:alert(1)", "/\t/evil.example",
    "/" + "a" * 2000,
]


@pytest.mark.parametrize("return_to", OPEN_REDIRECTS)
def test_T4_return_paths_in_the_transaction_never_leave_the_portal(portal, return_to):
    # Even a forged transaction (the key is known to this test) can only return to the portal.
    sealer = Sealer(("s" * 48,), TRANSACTION_COOKIE)
    state, nonce = "st", "nn"
    portal.cookies = {cookie_name(state): sealer.seal({"state": state, "nonce": nonce, "verifier": "v",
                                                       "return_to": return_to}, 600)}
    portal.expect_launch()  # refused return paths fall back to `/`, which the callback launches
    response = finish(portal, portal.idp.sign(portal.idp.claims(nonce=nonce)), state)
    assert response["statusCode"] == 302
    assert header(response, "Location") == PRESIGNED or header(response, "Location").startswith(BASE + "/")
    assert "\n" not in header(response, "Location") and "\r" not in header(response, "Location")


@pytest.mark.parametrize("path", [
    "//evil.example/", "/%2F%2Fevil.example", "/?target=demo&path=https://evil.example",
    "/?target=studio&path=" + quote("//evil.example"), "/?app=studio&path=" + quote("/\\evil"),
    "/?target=studio%0d%0aLocation:%20https://evil.example",
])
def test_T4_no_request_sends_the_browser_to_another_host(portal, path):
    signed_in(portal)
    portal.expect_launch()  # should the path reach a launch, Studio is a legitimate destination
    response = portal.get(path)
    location = header(response, "Location") or ""
    assert location == "" or location.startswith((BASE + "/", portal.idp.issuer + "/", PRESIGNED))
    assert response["statusCode"] in (302, 400, 404)


# -- T5 identity --------------------------------------------------------------------------------------
@pytest.mark.parametrize("email, owner_tag, launches", [
    ("john.doe@example.com", "john-doe@example.com", False),   # look-alike slug
    ("JOHN-DOE@EXAMPLE.COM", "john-doe@example.com", True),    # case: same person
    ("john-doe@example.com.evil", "john-doe@example.com", False),
    ("\u0458ohn-doe@example.com", "john-doe@example.com", False),  # Cyrillic je: not the same person
    ("john-do\u0435@example.com", "john-doe@example.com", False),  # Cyrillic ie
])
def test_T5_look_alike_identities_never_get_someone_elses_url(portal, email, owner_tag, launches):
    state, nonce = start(portal)
    finish(portal, portal.idp.sign(portal.idp.claims(nonce=nonce, email=email)), state)
    arn = "arn:aws:sagemaker:us-east-1:123456789012:user-profile/d-demo0portal01/"
    from portal.identity import profile_slug

    try:
        profile = profile_slug(email)
    except Exception:
        profile = None
    if profile:
        portal.stubber.add_response("describe_user_profile", {"UserProfileArn": arn + profile, "Status": "InService"})
        portal.stubber.add_response("list_tags", {"Tags": [{"Key": "studiouserid", "Value": owner_tag}]})
        if launches:
            portal.stubber.add_response("create_presigned_domain_url", {"AuthorizedUrl": "https://studio/x"})
    response = portal.get("/")
    assert (response["statusCode"] == 302) is launches
    portal.stubber.assert_no_pending_responses()


@pytest.mark.parametrize("email", ["...@example.com", "\u00e9\u00e8@example.com", "@", "----@x"])
def test_T5_identities_that_map_to_nothing_get_a_page_not_a_guess(portal, email):
    state, nonce = start(portal)
    finish(portal, portal.idp.sign(portal.idp.claims(nonce=nonce, email=email)), state)
    response = portal.get("/")
    assert response["statusCode"] == 403 and "can't be matched" in response["body"]


def test_T5_very_long_identity_maps_to_at_most_63_characters(portal):
    email = "a" * 70 + "@example.com"
    state, nonce = start(portal)
    finish(portal, portal.idp.sign(portal.idp.claims(nonce=nonce, email=email)), state)
    portal.expect_launch(profile="a" * 63, owner=email)
    assert portal.get("/")["statusCode"] == 302


def test_session_cookie_set_by_callback_is_only_issued_after_every_check(portal):
    state, nonce = start(portal)
    response = finish(portal, portal.idp.sign(portal.idp.claims(nonce=nonce)), state)
    cookie = set_cookies(response)[SESSION_COOKIE]
    assert cookie["httponly"] and cookie["secure"] and cookie["samesite"] == "Lax"


# -- T16 unverified e-mail addresses ------------------------------------------------------------------
def sign_in_with(portal, claims):
    """A sign-in whose ID token carries exactly these claims on top of the protocol ones (None: absent)."""
    state, nonce = start(portal)
    base = {key: value for key, value in portal.idp.claims(nonce=nonce).items()
            if key not in ("email", "email_verified")}
    return finish(portal, portal.idp.sign(base | claims), state)


ABSENT = "(absent)"


@pytest.mark.parametrize("flag", [ABSENT, False, "false", "False", "FALSE", "no", 0, None, "0", "", "yes"],
                         ids=repr)
def test_T16_an_unverified_email_never_becomes_an_identity(portal, flag):
    # A second account at the IdP carrying the victim's address, not verified (Entra never sends the claim)
    claims = {"email": "alice@example.com"} | ({} if flag is ABSENT else {"email_verified": flag})
    response = sign_in_with(portal, claims)
    assert_refused(response, portal)
    assert "Sign-in didn" in response["body"] and "verified" in response["body"]


@pytest.mark.parametrize("flag", [True, "true", "TRUE"])
def test_T16_a_verified_email_signs_in(portal, flag):
    portal.expect_launch()  # the callback answers with the launch itself
    response = sign_in_with(portal, {"email": "alice@example.com", "email_verified": flag})
    assert response["statusCode"] == 302 and SESSION_COOKIE in portal.cookies


def test_T16_a_profile_template_over_email_needs_it_verified_too():
    targets = json.dumps([{"id": "ml", "domain_id": "d-demo0portal01", "profile": "{email}-ml"}])
    portal = Portal({"PORTAL_IDENTITY_CLAIM": "sub", "PORTAL_TARGETS": targets, "PORTAL_DOMAIN_ID": ""})
    try:
        assert_refused(sign_in_with(portal, {"email": "alice@example.com"}), portal)
    finally:
        runtime.reset()


def test_T16_the_documented_opt_out_accepts_an_idp_that_never_says():
    portal = Portal({"PORTAL_REQUIRE_VERIFIED_EMAIL": "false"})
    try:
        portal.expect_launch()
        assert sign_in_with(portal, {"email": "alice@example.com"})["statusCode"] == 302
    finally:
        runtime.reset()


# -- T17 padded and invisible identities --------------------------------------------------------------
@pytest.mark.parametrize("email", [
    "alice@example.com\u00a0", "\u00a0alice@example.com", "alice@example.com\u2028", "\u3000alice@example.com",
    "alice@example.com ", " alice@example.com", "alice@example.com\t", "ali\u200bce@example.com",
    "alice@example.com\u2029", "\u202ealice@example.com", "alice\u00ad@example.com", "alice @example.com",
    "alice@example.com\x85", "\ufeffalice@example.com",
], ids=ascii)
def test_T17_padded_or_invisible_identities_are_refused_not_cleaned(portal, email):
    response = sign_in_with(portal, {"email": email, "email_verified": True})
    assert response["statusCode"] == 403 and "can't be matched" in response["body"]
    assert SESSION_COOKIE not in portal.cookies
    # Alice's profile (tagged alice@example.com) is never even looked at.
    portal.stubber.assert_no_pending_responses()


# -- T18 group strings ---------------------------------------------------------------------------------
ML_ONLY = json.dumps([{"id": "ml", "label": "ML", "domain_id": "d-demo0portal01", "groups": ["ml-engineers"]}])


@pytest.mark.parametrize("groups, admitted", [
    ("Friends of ml-engineers, Marketing", False),
    ("Friends of ml-engineers", False),
    ("[not ml-engineers, Marketing]", False),
    ("ml-engineers\tMarketing", False),
    ("ml-engineers\u00a0, Marketing", False),
    ("Marketing,\u3000ml-engineers", False),
    ("ml-engineers\n", False),
    ("\u2028ml-engineers", False),
    (["Friends of ml-engineers"], False),
    ([" ml-engineers"], False),  # a list is taken as is
    ("Marketing, ml-engineers", True),
    ("[Marketing, ml-engineers]", True),
    (["ml-engineers"], True),
], ids=repr)
def test_T18_group_strings_are_split_on_commas_only(groups, admitted):
    portal = Portal({"PORTAL_TARGETS": ML_ONLY, "PORTAL_DOMAIN_ID": ""})
    try:
        portal.sign_in(**{"cognito:groups": groups})
        if admitted:
            portal.expect_launch()
        response = portal.get("/")
        assert (response["statusCode"] == 302) is admitted
        if not admitted:
            assert response["statusCode"] == 403 and header(response, "Location") is None
        portal.stubber.assert_no_pending_responses()
    finally:
        runtime.reset()


# -- T19 provisioning from foreign e-mail domains -------------------------------------------------------
PROVISIONING = json.dumps([{"id": "team", "label": "Team", "domain_id": "d-demo0portal01", "provision": {
    "execution_role_arn": "arn:aws:iam::123456789012:role/Exec", "email_domains": ["example.com"]}}])
PROFILE_ARN = "arn:aws:sagemaker:us-east-1:123456789012:user-profile/d-demo0portal01/"


@pytest.fixture
def provisioning():
    portal = Portal({"PORTAL_TARGETS": PROVISIONING, "PORTAL_DOMAIN_ID": ""})
    yield portal
    runtime.reset()


@pytest.mark.parametrize("email", ["john.doe@partner.example", "john.doe@sub.example.com", "john.doe@example.com.evil",
                                   "john.doe@example.co\u043c", "john.doe@partner.example@example.com"], ids=ascii)
def test_T19_foreign_domains_cannot_squat_a_colleagues_profile_name(provisioning, email):
    # john.doe@partner.example maps to john-doe, which john-doe@example.com has not visited yet
    provisioning.sign_in(email=email)
    provisioning.stubber.add_client_error("describe_user_profile", "ResourceNotFound", "no such profile", 400)
    provisioning.stubber.add_response("describe_domain", {"AuthMode": "IAM"})
    response = provisioning.get("/?target=team")
    # No CreateUserProfile is stubbed: had the portal called it, the stubber would have failed the request.
    assert response["statusCode"] == 403 and "can't create a Studio profile for this account" in response["body"]
    assert "example.com" in response["body"]
    provisioning.stubber.assert_no_pending_responses()


def test_T19_a_listed_domain_is_provisioned(provisioning):
    provisioning.sign_in(email="john.doe@example.com")
    provisioning.stubber.add_client_error("describe_user_profile", "ResourceNotFound", "no such profile", 400)
    provisioning.stubber.add_response("describe_domain", {"AuthMode": "IAM"})
    provisioning.stubber.add_response("create_user_profile", {"UserProfileArn": PROFILE_ARN + "john-doe"})
    assert provisioning.get("/?target=team")["statusCode"] == 202


def test_T19_a_name_that_belongs_to_someone_else_says_so_and_tells_the_helpdesk(provisioning):
    provisioning.sign_in(email="john-doe@example.com")
    provisioning.stubber.add_response("describe_user_profile",
                                      {"UserProfileArn": PROFILE_ARN + "john-doe", "Status": "InService"})
    provisioning.stubber.add_response("list_tags", {"Tags": [{"Key": "studiouserid", "Value": "john.doe@example.com"}]})
    response = provisioning.get("/?target=team")
    assert response["statusCode"] == 403 and header(response, "Location") is None
    body = response["body"]
    assert "already belongs to someone else" in body and "For the helpdesk" in body
    assert "d-demo0portal01" in body and "john-doe@example.com" in body
    assert "john.doe@example.com" not in body  # the other person's identity is not shown


# -- T20 deep-link paths that climb out -----------------------------------------------------------------
@pytest.mark.parametrize("path", [
    "..", "a/../../b", ".%2e/x", "%2e./x", "%2e%2e/x", "%252e%252e/etc", "%25252e%25252e/etc", "a/./b",
    "lab/tree/%2e%2e%2f%2e%2e%2fconsole", "..\\x", "a%5c..%5cb", "%5c%5cevil.example", "%2fabsolute",
    "a%3ab", "a%00b", "%c0%ae%c0%ae/x",
], ids=ascii)
def test_T20_deep_link_paths_cannot_climb_out(portal, path):
    signed_in(portal)
    response = portal.get(f"/?app=JupyterLab&path={quote(path, safe='')}")
    assert response["statusCode"] == 400 and "That link doesn't work" in response["body"]
    assert header(response, "Location") is None
    portal.stubber.assert_no_pending_responses()  # nothing was asked of SageMaker


def test_T20_a_safe_path_reaches_studio_decoded(portal):
    signed_in(portal)
    portal.expect_launch(presign_params={"LandingUri": "app:JupyterLab:lab/tree/a b.ipynb"})
    assert portal.get(f"/?app=JupyterLab&path={quote('lab/tree/a%20b.ipynb', safe='')}")["statusCode"] == 302


# -- T21 look-alikes on the chooser ---------------------------------------------------------------------
class OneDomainOfJohnDoes(AwsGateway):
    """Every profile exists, is in service and belongs to john-doe@example.com; the domain has john-doe's
    private space and a shared one. Answers in any order, so it shows what a chooser would reveal."""

    def __init__(self):
        super().__init__()
        self.listed = 0

    def sagemaker(self, *args, **kwargs):
        return None

    def describe_user_profile(self, client, domain_id, profile):
        return UserProfile(arn=f"arn:aws:sagemaker:us-east-1:1:user-profile/{domain_id}/{profile}", status="InService")

    def list_tags(self, client, resource_arn):
        return {"studiouserid": "john-doe@example.com"}

    def list_spaces(self, client, domain_id):
        self.listed += 1
        return [Space("john-doe-secret-merger", "john-doe", False, "JupyterLab", "InService"),
                Space("team-room", None, True, "JupyterLab", "InService")]


TWO_STUDIOS = json.dumps([{"id": "one", "label": "One", "domain_id": "d-demo0portal01"},
                          {"id": "two", "label": "Two", "domain_id": "d-demo0portal02"}])


@pytest.fixture
def john_does():
    gateway = OneDomainOfJohnDoes()
    portal = Portal({"PORTAL_TARGETS": TWO_STUDIOS, "PORTAL_DOMAIN_ID": ""}, gateway=gateway)
    yield portal, gateway
    runtime.reset()


def test_T21_a_look_alike_colleague_sees_no_names_of_someone_elses_spaces(john_does):
    portal, gateway = john_does
    # john.doe@ maps to john-doe, which belongs to john-doe@
    portal.sign_in(email="john.doe@example.com")
    response = portal.get("/")
    assert response["statusCode"] == 200 and "Choose a Studio" in response["body"]
    assert "john-doe-secret-merger" not in response["body"] and "team-room" not in response["body"]
    assert gateway.listed == 0  # the spaces were never even listed


def test_T21_the_owner_sees_their_private_and_the_shared_spaces(john_does):
    portal, _ = john_does
    portal.sign_in(email="john-doe@example.com")
    body = portal.get("/")["body"]
    assert "john-doe-secret-merger" in body and "team-room" in body


# -- T23 identities STS and the tag API cannot carry ----------------------------------------------------
LAUNCH_ROLE = "arn:aws:iam::123456789012:role/portal-launch"


@pytest.fixture
def through_launch_role():
    from tests.support.harness import _SESSION

    sagemaker, sts, assumed = (_SESSION.client(name) for name in ("sagemaker", "sts", "sagemaker"))
    gateway = AwsGateway(_SESSION, clients={("sagemaker", None): sagemaker, ("sts", None): sts},
                         assumed_clients={("sagemaker", None): assumed})
    stubs = [Stubber(client) for client in (sagemaker, sts, assumed)]
    for stub in stubs:
        stub.activate()
    portal = Portal({"PORTAL_LAUNCH_ROLE_ARN": LAUNCH_ROLE}, gateway=gateway)
    yield portal, *stubs
    runtime.reset()


def test_T23_a_non_ascii_identity_launches_through_the_launch_role(through_launch_role):
    portal, sagemaker, sts, assumed = through_launch_role
    email = "jürgen.müller@example.com"
    portal.sign_in(email=email)
    arn = "arn:aws:sagemaker:us-east-1:123456789012:user-profile/d-demo0portal01/j-rgen-m-ller"
    sagemaker.add_response("describe_user_profile", {"UserProfileArn": arn, "Status": "InService"})
    sagemaker.add_response("list_tags", {"Tags": [{"Key": "studiouserid", "Value": email}]})
    from portal.aws import role_session_name

    name = role_session_name(email)
    assert name.isascii() and len(name) <= 64
    sts.add_response("assume_role", {"Credentials": {
        "AccessKeyId": "ASIAEXAMPLEEXAMPLE12", "SecretAccessKey": "x" * 40, "SessionToken": "t" * 20,
        "Expiration": datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)}},
        {"RoleArn": LAUNCH_ROLE, "RoleSessionName": name, "DurationSeconds": 3600,
         "Tags": [{"Key": "studiouserid", "Value": email}]})
    assumed.add_response("create_presigned_domain_url", {"AuthorizedUrl": PRESIGNED})
    response = portal.get("/")
    assert response["statusCode"] == 302 and header(response, "Location") == PRESIGNED
    for stub in (sagemaker, sts, assumed):
        stub.assert_no_pending_responses()


@pytest.mark.parametrize("email", ["o'brien@example.com", "alice!@example.com", "a#b@example.com",
                                   "r&d@example.com"])
def test_T23_an_identity_no_tag_can_hold_gets_a_clear_page_not_a_502(through_launch_role, email):
    portal, *_ = through_launch_role
    response = portal.sign_in(email=email)
    assert response["statusCode"] == 403 and "can't be matched" in response["body"]
    assert "AWS tags can&#39;t carry" in response["body"] and SESSION_COOKIE not in portal.cookies
