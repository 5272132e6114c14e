"""The handler driven with REST API events, against a scripted IdP and a stubbed SageMaker."""

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from portal import runtime
from portal.handler import handler
from portal.runtime import SESSION_COOKIE, TRANSACTION_COOKIE
from tests.support.events import FakeContext, header, rest_event, set_cookies
from tests.support.harness import BASE, PRESIGNED, Portal


@pytest.fixture
def portal():
    yield Portal()
    runtime.reset()


def test_signed_out_visit_starts_oidc_with_a_sealed_transaction_cookie(portal):
    response = portal.get("/")
    assert response["statusCode"] == 302
    location = header(response, "Location")
    assert location.startswith("https://idp.example.test/authorize?")
    assert parse_qs(urlsplit(location).query)["redirect_uri"] == [f"{BASE}/callback"]
    cookie = set_cookies(response)[TRANSACTION_COOKIE]
    assert cookie["httponly"] and cookie["secure"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
    assert 0 < int(cookie["max-age"]) <= 600
    assert "state" not in cookie.value and len(cookie.value) > 40


def test_sign_in_then_launch_then_second_click_skips_the_idp(portal):
    # Given a signed-in user
    callback = portal.sign_in()
    assert callback["statusCode"] == 302 and header(callback, "Location") == f"{BASE}/"
    session_cookie = set_cookies(callback)[SESSION_COOKIE]
    assert session_cookie["httponly"] and session_cookie["secure"] and session_cookie["samesite"] == "Lax"
    assert int(session_cookie["max-age"]) == 3600
    assert TRANSACTION_COOKIE not in portal.cookies
    # When they click the bookmark
    portal.expect_launch()
    launch = portal.get("/")
    # Then they land in Studio, with a response nobody may cache or leak through a referrer
    assert launch["statusCode"] == 302 and header(launch, "Location") == PRESIGNED
    assert header(launch, "Cache-Control") == "no-store" and header(launch, "Referrer-Policy") == "no-referrer"
    assert PRESIGNED not in (launch.get("body") or "")
    # And the second click goes straight to Studio: no IdP request, one AWS call
    idp_requests = len(portal.http.requests)
    portal.stubber.add_response("create_presigned_domain_url", {"AuthorizedUrl": PRESIGNED + "2"})
    assert header(portal.get("/"), "Location") == PRESIGNED + "2"
    assert len(portal.http.requests) == idp_requests
    portal.stubber.assert_no_pending_responses()


def test_deep_link_path_survives_sign_in(portal):
    start = portal.get("/?x=1&y=two")
    query = parse_qs(urlsplit(header(start, "Location")).query)
    portal.idp.next_id_token = portal.idp.sign(portal.idp.claims(nonce=query["nonce"][0]))
    callback = portal.get(f"/callback?code=c&state={query['state'][0]}")
    assert header(callback, "Location") == f"{BASE}/?x=1&y=two"


@pytest.mark.parametrize("cookie", ["garbage", "", "A" * 5000])
def test_tampered_session_cookie_means_signed_out(portal, cookie):
    portal.cookies[SESSION_COOKIE] = cookie
    response = portal.get("/")
    assert response["statusCode"] == 302 and header(response, "Location").startswith("https://idp.example.test/")


def test_session_cookie_from_another_issuer_means_signed_out(portal):
    portal.sign_in()
    other = Portal(env={"PORTAL_OIDC_ISSUER": "https://other-idp.example.test"})
    other.cookies = dict(portal.cookies)
    response = other.get("/")
    assert header(response, "Location").startswith("https://other-idp.example.test/")


def test_callback_with_another_browsers_state_is_refused(portal):
    portal.get("/")
    response = portal.get("/callback?code=c&state=attackers-state")
    assert response["statusCode"] == 401 and "belong to the sign-in you started" in response["body"]
    assert SESSION_COOKIE not in portal.cookies


def test_callback_without_transaction_cookie_is_refused(portal):
    response = portal.get("/callback?code=c&state=s")
    assert response["statusCode"] == 401 and "another browser or has expired" in response["body"]


@pytest.mark.parametrize("query, status", [
    ("error=access_denied&state=s", 403),
    ("error=server_error", 401),
    ("code=c", 401),
    ("state=s", 401),
    ("code=" + "c" * 3000 + "&state=s", 400),
    ("code=a%20b&state=s", 401),
])
def test_malformed_callbacks_get_a_clear_page(portal, query, status):
    portal.get("/")
    response = portal.get(f"/callback?{query}")
    assert response["statusCode"] == status
    assert "text/html" in header(response, "Content-Type") and "Traceback" not in response["body"]


def test_cancelled_sign_in_says_so_and_ends_the_transaction(portal):
    portal.get("/")
    assert TRANSACTION_COOKIE in portal.cookies
    response = portal.get("/callback?error=access_denied")
    assert "Sign-in was cancelled" in response["body"]
    assert set_cookies(response)[TRANSACTION_COOKIE]["max-age"] == "0"
    assert TRANSACTION_COOKIE not in portal.cookies


def test_token_with_wrong_nonce_is_refused(portal):
    start = portal.get("/")
    state = parse_qs(urlsplit(header(start, "Location")).query)["state"][0]
    portal.idp.next_id_token = portal.idp.sign(portal.idp.claims(nonce="not-the-one"))
    response = portal.get(f"/callback?code=c&state={state}")
    assert response["statusCode"] == 401 and SESSION_COOKIE not in portal.cookies


def test_unverified_email_cannot_sign_in(portal):
    response = portal.sign_in(email_verified=False)
    assert response["statusCode"] == 401 and SESSION_COOKIE not in portal.cookies
    assert "did not confirm that your e-mail address is verified" in response["body"]


@pytest.mark.parametrize("owner, status, text", [
    ("john-doe@example.com", 403, "isn't registered to you"),
])
def test_look_alike_identity_gets_403_and_no_url(portal, owner, status, text):
    portal.sign_in(email="john.doe@example.com")
    portal.expect_launch(profile="john-doe", owner=owner)
    response = portal.get("/")
    assert response["statusCode"] == status and text in response["body"]
    assert "Location" not in response.get("multiValueHeaders", {})
    assert "john-doe" in response["body"] and "john.doe@example.com" in response["body"]


def test_profile_not_ready_page(portal):
    portal.sign_in()
    portal.expect_launch(status="Pending")
    response = portal.get("/")
    assert response["statusCode"] == 409 and "Pending" in response["body"]


def test_missing_profile_page(portal):
    portal.sign_in(email="carol@example.com")
    portal.stubber.add_client_error("describe_user_profile", "ResourceNotFound", "nope", 400)
    portal.stubber.add_response("describe_domain", {"AuthMode": "IAM"})
    response = portal.get("/")
    assert response["statusCode"] == 404 and "don't have a SageMaker Studio profile" in response["body"]
    assert "<code>carol</code>" in response["body"]


def test_aws_outage_page_names_the_request_for_the_helpdesk(portal):
    portal.sign_in()
    portal.stubber.add_client_error("describe_user_profile", "ThrottlingException", "slow down", 400)
    event_response = portal.get("/")
    assert event_response["statusCode"] == 503
    assert 'id="request-id"' in event_response["body"]


def test_identity_that_slugs_to_nothing_gets_a_clear_page(portal):
    portal.sign_in(email="...@example.com")
    response = portal.get("/")
    assert response["statusCode"] == 403 and "can't be matched" in response["body"]


def test_logout_clears_the_session_and_goes_to_the_idp(portal):
    portal.sign_in()
    response = portal.get("/logout")
    assert response["statusCode"] == 302
    assert header(response, "Location").startswith("https://idp.example.test/logout?")
    assert parse_qs(urlsplit(header(response, "Location")).query)["post_logout_redirect_uri"] == [f"{BASE}/signed-out"]
    assert set_cookies(response)[SESSION_COOKIE]["max-age"] == "0"
    assert SESSION_COOKIE not in portal.cookies


def test_signed_out_page_offers_to_sign_in_again(portal):
    response = portal.get("/signed-out")
    assert response["statusCode"] == 200 and "You have signed out" in response["body"]
    assert f'href="{BASE}/"' in response["body"]


def test_logout_without_an_idp_logout_page_shows_the_signed_out_page(portal):
    document = portal.idp.discovery() | {"authorization_endpoint": "https://idp.example.test/auth"}
    document.pop("end_session_endpoint")
    portal.idp.discovery = lambda: document
    response = portal.get("/logout")
    assert response["statusCode"] == 200 and "You have signed out" in response["body"]


def test_health_needs_no_sign_in_and_tells_nothing(portal):
    response = portal.get("/health")
    assert response["statusCode"] == 200 and json.loads(response["body"]) == {"status": "ok"}
    assert not portal.http.requests


def test_unknown_routes_and_methods_get_404_pages(portal):
    assert portal.get("/admin")["statusCode"] == 404
    response = handler(rest_event("/", method="POST"), FakeContext())
    assert response["statusCode"] in (404, 405)


def test_every_html_page_carries_security_headers(portal):
    response = portal.get("/nothing-here")
    csp = header(response, "Content-Security-Policy")
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp
    assert header(response, "X-Content-Type-Options") == "nosniff"
    assert header(response, "Cache-Control") == "no-store"
    assert header(response, "Strict-Transport-Security").startswith("max-age=")


def test_base_url_follows_custom_domains_and_configuration(portal):
    # A custom domain maps the API at its root: no stage in the path.
    event = rest_event("/", stage="prod", host="studio.example.com")
    event["requestContext"]["path"] = "/"
    response = handler(event, FakeContext())
    assert parse_qs(urlsplit(header(response, "Location")).query)["redirect_uri"] == ["https://studio.example.com/callback"]
    configured = Portal(env={"PORTAL_BASE_URL": "https://portal.corp.example"})
    response = configured.get("/")
    assert parse_qs(urlsplit(header(response, "Location")).query)["redirect_uri"] == ["https://portal.corp.example/callback"]


def test_plain_http_is_only_believed_on_loopback(portal):
    response = handler(rest_event("/", headers={"X-Forwarded-Proto": "http"}), FakeContext())
    assert "redirect_uri=https%3A%2F%2F" in header(response, "Location")


def test_malformed_host_is_a_bad_request(portal):
    event = rest_event("/")
    event["requestContext"]["domainName"] = "evil.example/\r\nX: y"
    response = handler(event, FakeContext())
    assert response["statusCode"] == 400


@pytest.mark.parametrize("event", [{}, {"path": 1}, "not a dict", {"path": "/", "httpMethod": None}])
def test_events_that_are_not_api_gateway_events_get_400(event):
    assert handler(event, FakeContext())["statusCode"] == 400


def test_misconfiguration_is_a_clear_503_naming_nothing_secret(monkeypatch):
    runtime.reset()
    monkeypatch.setenv("PORTAL_OIDC_ISSUER", "http://idp.example.com")
    response = handler(rest_event("/"), FakeContext())
    assert response["statusCode"] == 503 and "not configured correctly" in response["body"]
    runtime.reset()


def test_authorize_url_carries_the_configured_params(portal):
    configured = Portal(env={"PORTAL_OIDC_AUTHORIZE_PARAMS": "identity_provider=CorpOkta&domain_hint=corp.example"})
    query = parse_qs(urlsplit(header(configured.get("/"), "Location")).query)
    assert query["identity_provider"] == ["CorpOkta"] and query["domain_hint"] == ["corp.example"]
    assert query["client_id"] == ["portal-client"] and len(query["state"]) == 1
