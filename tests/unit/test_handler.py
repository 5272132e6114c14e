"""The handler driven with REST API events, against a scripted IdP and a stubbed SageMaker."""

import json
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest

from portal import runtime
from portal.handler import handler
from portal.runtime import SESSION_COOKIE
from portal.signin import MAX_PARALLEL_SIGN_INS, TRANSACTION_PREFIX, cookie_name
from tests.support.events import API_HOST, FakeContext, header, rest_event, set_cookies
from tests.support.harness import BASE, DOMAIN, PRESIGNED, Portal


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
    state = parse_qs(urlsplit(location).query)["state"][0]
    cookie = set_cookies(response)[cookie_name(state)]
    assert cookie_name(state).startswith(TRANSACTION_PREFIX) and len(portal.transactions()) == 1
    assert cookie["httponly"] and cookie["secure"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
    assert 0 < int(cookie["max-age"]) <= 600
    assert "state" not in cookie.value and len(cookie.value) > 40


def test_sign_in_then_launch_then_second_click_skips_the_idp(portal):
    # Given a signed-out user who clicks the bookmark, when the IdP sends them back
    portal.expect_launch()
    launch = portal.sign_in()
    # Then the callback itself lands them in Studio (two portal requests in all), with a response nobody may
    # cache or leak through a referrer, and their session
    assert launch["statusCode"] == 302 and header(launch, "Location") == PRESIGNED
    assert header(launch, "Cache-Control") == "no-store" and header(launch, "Referrer-Policy") == "no-referrer"
    assert PRESIGNED not in (launch.get("body") or "")
    session_cookie = set_cookies(launch)[SESSION_COOKIE]
    assert session_cookie["httponly"] and session_cookie["secure"] and session_cookie["samesite"] == "Lax"
    assert int(session_cookie["max-age"]) == 3600
    assert portal.transactions() == {}
    portal.stubber.assert_no_pending_responses()
    # And the second click goes straight to Studio: no IdP request, one AWS call
    idp_requests = len(portal.http.requests)
    portal.stubber.add_response("create_presigned_domain_url", {"AuthorizedUrl": PRESIGNED + "2"})
    assert header(portal.get("/"), "Location") == PRESIGNED + "2"
    assert len(portal.http.requests) == idp_requests
    portal.stubber.assert_no_pending_responses()


def test_a_return_path_that_is_not_a_launch_is_a_redirect(portal):
    callback = portal.sign_in("/status?target=studio&space=team")
    assert callback["statusCode"] == 302 and header(callback, "Location") == f"{BASE}/status?target=studio&space=team"
    assert SESSION_COOKIE in portal.cookies


def test_the_callback_launches_the_deep_link_it_was_started_from(portal):
    portal.stubber.add_response("describe_user_profile", {
        "UserProfileArn": f"arn:aws:sagemaker:us-east-1:123456789012:user-profile/{DOMAIN}/alice",
        "Status": "InService"})
    portal.stubber.add_response("list_tags", {"Tags": [{"Key": "studiouserid", "Value": "alice@example.com"}]})
    portal.stubber.add_response("create_presigned_domain_url", {"AuthorizedUrl": PRESIGNED}, {
        "DomainId": DOMAIN, "UserProfileName": "alice", "ExpiresInSeconds": 30,
        "SessionExpirationDurationInSeconds": 43200, "LandingUri": "studio::lab/tree/x.ipynb"})
    callback = portal.sign_in("/?app=studio&path=lab/tree/x.ipynb&utm=ignored")
    assert callback["statusCode"] == 302 and header(callback, "Location") == PRESIGNED
    portal.stubber.assert_no_pending_responses()


def test_the_callback_answers_with_the_launchs_own_page_and_the_session(portal):
    portal.expect_launch(owner="someone-else@example.com")
    callback = portal.sign_in()
    assert callback["statusCode"] == 403 and "registered to you" in callback["body"]
    assert SESSION_COOKIE in set_cookies(callback) and portal.transactions() == {}


def _refusals(output: str) -> list[str]:
    """The Reason of every Refusals metric in the EMF lines of ``output``."""
    reasons = []
    for line in output.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            blob = json.loads(line)
            if "Refusals" in blob:
                reasons.append(blob["Reason"])
    return reasons


@pytest.mark.parametrize("where", ["/", "/callback"])
def test_a_refused_launch_counts_as_a_refusal_on_the_bookmark_and_on_the_callback_alike(portal, capfd, caplog,
                                                                                      where):
    if where == "/":
        portal.sign_in("/status")  # signed in, nothing launched yet
    capfd.readouterr()
    caplog.clear()
    portal.expect_launch(owner="someone-else@example.com")
    refused = portal.get("/") if where == "/" else portal.sign_in()
    assert refused["statusCode"] == 403
    assert _refusals(capfd.readouterr().out) == ["profile_not_owned"]
    assert [record.reason for record in caplog.records if record.getMessage() == "request refused"] == \
        ["profile_not_owned"]


def test_parallel_sign_ins_in_one_browser_each_complete_where_they_started(portal):
    # Given three links opened while signed out, before any sign-in finishes
    started = [portal.start_sign_in(path) for path in ("/status?target=studio", "/", "/status?space=b")]
    assert len(portal.transactions()) == 3
    # When they finish in another order, each lands where it was started and ends only its own transaction
    first = portal.finish_sign_in(*started[2])
    assert header(first, "Location") == f"{BASE}/status?space=b" and len(portal.transactions()) == 2
    portal.expect_launch()
    assert header(portal.finish_sign_in(*started[1]), "Location") == PRESIGNED
    assert header(portal.finish_sign_in(*started[0]), "Location") == f"{BASE}/status?target=studio"
    assert portal.transactions() == {}


def test_each_parallel_sign_in_is_bound_to_its_own_nonce(portal):
    (state_a, nonce_a), (state_b, _) = portal.start_sign_in("/status?a=1"), portal.start_sign_in("/status?b=1")
    # B's response carrying A's nonce is refused, and A still completes after it
    refused = portal.finish_sign_in(state_b, nonce_a)
    assert refused["statusCode"] == 401 and SESSION_COOKIE not in portal.cookies
    assert header(portal.finish_sign_in(state_a, nonce_a), "Location") == f"{BASE}/status?a=1"


def test_parallel_sign_ins_are_bounded_and_the_oldest_goes(portal):
    started = []
    for number in range(MAX_PARALLEL_SIGN_INS + 2):
        started.append(portal.start_sign_in(f"/status?n={number}"))
        assert len(portal.transactions()) == min(number + 1, MAX_PARALLEL_SIGN_INS)
    assert cookie_name(started[0][0]) not in portal.transactions()
    assert portal.finish_sign_in(*started[0])["statusCode"] == 401
    assert header(portal.finish_sign_in(*started[-1]), "Location") == f"{BASE}/status?n={MAX_PARALLEL_SIGN_INS + 1}"


def test_long_return_paths_keep_the_transaction_cookies_within_their_byte_budget(portal):
    from portal.signin import MAX_TRANSACTION_BYTES

    for number in range(MAX_PARALLEL_SIGN_INS):
        portal.start_sign_in(f"/status?n={number}&pad={'p' * 900}")
        assert sum(len(value) for value in portal.transactions().values()) <= MAX_TRANSACTION_BYTES
    assert 1 <= len(portal.transactions()) < MAX_PARALLEL_SIGN_INS


def test_a_link_too_long_to_come_back_after_sign_in_says_so(portal):
    # It works signed in (the path is within its own bound, 900 characters) ...
    link = "/?" + urlencode({"app": "studio", "path": "lab/tree/" + "a b" * 297}, quote_via=quote)
    portal.expect_launch()
    portal.sign_in()
    portal.stubber.add_response("create_presigned_domain_url", {"AuthorizedUrl": PRESIGNED})  # ownership: cached
    assert header(portal.get(link), "Location") == PRESIGNED
    # ... but encoded it is longer than a sign-in can carry: a clear page, not the start page after sign-in
    portal.cookies.pop(SESSION_COOKIE)
    response = portal.get(link)
    assert response["statusCode"] == 400 and "The link is too long." in response["body"]
    assert portal.transactions() == {}


@pytest.mark.parametrize("link", ["/?fbclid=" + "A" * 1100, "/?target=studio&utm_campaign=" + "x" * 1100])
def test_a_long_tracking_tag_is_left_behind_and_the_link_still_launches_after_sign_in(portal, link):
    started = portal.get(link)
    query = parse_qs(urlsplit(header(started, "Location")).query)
    portal.expect_launch()
    assert header(portal.finish_sign_in(query["state"][0], query["nonce"][0]), "Location") == PRESIGNED


def test_only_the_portals_own_sign_in_cookie_names_are_written_back(portal):
    # A name the portal could not have set is never echoed into Set-Cookie, however it starts.
    forged = f"{TRANSACTION_PREFIX}x\r\nX-Injected: 1"
    portal.cookies[forged] = "v"
    portal.cookies[f"{TRANSACTION_PREFIX}{'0' * 16}"] = "stale"
    written = portal.get("/logout")["multiValueHeaders"]["Set-Cookie"]
    assert [line for line in written if line.startswith(f"{TRANSACTION_PREFIX}{'0' * 16}=;")]
    assert not [line for line in written if "Injected" in line or "\n" in line or "\r" in line]


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


@pytest.mark.parametrize("repeat", ["code=c&code={state}&state={state}", "code=c&state={state}&state={state}",
                                    "code=c&state=attackers-state&state={state}"])
def test_a_callback_repeating_its_code_or_state_is_refused_even_with_the_right_state_last(portal, repeat):
    state, nonce = portal.start_sign_in("/")
    portal.idp.next_id_token = portal.idp.sign(portal.idp.claims(nonce=nonce))
    response = portal.get("/callback?" + repeat.format(state=state))  # RFC 6749 3.1: each parameter once
    assert response["statusCode"] == 401 and "incomplete" in response["body"]
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


def test_cancelled_sign_in_says_so_and_ends_only_its_own_transaction(portal):
    state, _ = portal.start_sign_in()
    other_state, other_nonce = portal.start_sign_in("/status?target=studio")
    response = portal.get(f"/callback?error=access_denied&state={state}")
    assert "Sign-in was cancelled" in response["body"]
    assert set_cookies(response)[cookie_name(state)]["max-age"] == "0"
    assert list(portal.transactions()) == [cookie_name(other_state)]
    assert header(portal.finish_sign_in(other_state, other_nonce), "Location") == f"{BASE}/status?target=studio"


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
    # What signing out did not end, said plainly: the organisation's single sign-on and open Studio tabs
    assert "you may still be signed in there" in response["body"]
    assert "Studio tabs you already opened keep running" in response["body"]


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


@pytest.mark.parametrize("host", ["evil.example/\r\nX: y", "abc123.example.com\n", "[::1]\n", "a.example:443\n"])
def test_malformed_host_is_a_bad_request(portal, host):
    event = rest_event("/")
    event["requestContext"]["domainName"] = host  # a final newline too: it would reach Location
    response = handler(event, FakeContext())
    assert response["statusCode"] == 400


@pytest.mark.parametrize("event", [{}, {"path": 1}, "not a dict", {"path": "/", "httpMethod": None}])
def test_events_that_are_not_api_gateway_events_get_400(event):
    assert handler(event, FakeContext())["statusCode"] == 400


@pytest.mark.parametrize("where", ["query", "multi_query", "header", "path", "context_path", "stage"])
def test_a_lone_surrogate_anywhere_in_the_request_gets_400(portal, where):
    # JSON can carry "\ud800"; no encoder further on (URLs, cookie names) would take it.
    event = rest_event("/callback", query={"state": ["ok"], "code": ["c"]})
    if where == "query":
        event["queryStringParameters"]["state"] = "\ud800"
    elif where == "multi_query":
        event["multiValueQueryStringParameters"] = {"utm": ["\udcff"]}
    elif where == "header":
        event["headers"]["Accept-Language"] = "de\ud800"
    elif where == "path":
        event["path"] = "/\ud800"
    elif where == "context_path":
        event["requestContext"]["path"] = "/\ud800/callback"  # base_url() takes its prefix from here
    else:
        event["requestContext"]["stage"] = "\ud800"
    response = handler(event, FakeContext())
    assert response["statusCode"] == 400 and response["body"] == "Bad request"


class _BrokenContext(FakeContext):
    def get_remaining_time_in_millis(self):
        raise RuntimeError("no clock")


class _SillyContext(FakeContext):
    def get_remaining_time_in_millis(self):
        return None


@pytest.mark.parametrize("context", [_BrokenContext(), _SillyContext()], ids=["raises", "none"])
def test_a_context_that_cannot_say_the_time_left_still_gets_the_portals_answer(portal, context):
    assert handler(rest_event("/health"), context)["statusCode"] == 200
    assert header(handler(rest_event("/"), context), "Location")  # the sign-in starts


def test_misconfiguration_is_a_clear_503_naming_nothing_secret(monkeypatch):
    runtime.reset()
    monkeypatch.setenv("PORTAL_OIDC_ISSUER", "http://idp.example.com")
    response = handler(rest_event("/"), FakeContext())
    assert response["statusCode"] == 503 and "isn&#39;t configured correctly" in response["body"]
    # It promises nothing it can't keep: nobody was necessarily alerted, and waiting fixes nothing
    body = response["body"].lower()
    assert "alerted" not in body and "minute" not in body and "try again</a>" not in body
    runtime.reset()


def test_misconfiguration_page_still_names_the_portal_and_its_helpdesk(monkeypatch):
    runtime.reset()
    monkeypatch.setenv("PORTAL_OIDC_ISSUER", "http://idp.example.com")
    monkeypatch.setenv("PORTAL_TITLE", "Acme ML")
    monkeypatch.setenv("PORTAL_HELPDESK", "https://help.acme.example/ml")
    body = handler(rest_event("/"), FakeContext())["body"]
    assert "<title>The portal isn&#39;t configured correctly \u2013 Acme ML</title>" in body
    assert '<a href="https://help.acme.example/ml">' in body
    runtime.reset()


def test_authorize_url_carries_the_configured_params(portal):
    configured = Portal(env={"PORTAL_OIDC_AUTHORIZE_PARAMS": "identity_provider=CorpOkta&domain_hint=corp.example"})
    query = parse_qs(urlsplit(header(configured.get("/"), "Location")).query)
    assert query["identity_provider"] == ["CorpOkta"] and query["domain_hint"] == ["corp.example"]
    assert query["client_id"] == ["portal-client"] and len(query["state"]) == 1


# --- GET /login: sign-in started by an SSO tile (OIDC Core §4) -------------------------------------------
def _login(portal, **params):
    from urllib.parse import urlencode

    return portal.get(f"/login?{urlencode(params)}")


def test_login_from_the_issuer_starts_a_sign_in_with_the_hint(portal):
    response = _login(portal, iss="https://idp.example.test", login_hint="alice@example.com")
    assert response["statusCode"] == 302
    query = parse_qs(urlsplit(header(response, "Location")).query)
    assert query["login_hint"] == ["alice@example.com"] and len(portal.transactions()) == 1
    portal.expect_launch()
    assert header(portal.finish_sign_in(query["state"][0], query["nonce"][0]), "Location") == PRESIGNED


def test_login_from_a_listed_initiator_returns_to_its_target_link(portal):
    tiled = Portal(env={"PORTAL_LOGIN_INITIATORS": "https://corp.okta.com,https://login.example.com"})
    response = _login(tiled, iss="https://corp.okta.com", target_link_uri=f"{BASE}/status?target=studio")
    query = parse_qs(urlsplit(header(response, "Location")).query)
    assert "login_hint" not in query
    done = tiled.finish_sign_in(query["state"][0], query["nonce"][0])
    assert header(done, "Location") == f"{BASE}/status?target=studio"


def test_an_issuer_configured_with_a_final_slash_the_idp_lacks_still_signs_in_and_starts_tile_sign_ins():
    # Earlier versions stripped the "/": such a stack keeps working after the upgrade, with the IdP's spelling.
    slashed = Portal(env={"PORTAL_OIDC_ISSUER": "https://idp.example.test/"})
    slashed.idp.issuer = "https://idp.example.test"  # what the IdP declares, and its tokens carry
    slashed.expect_launch()
    assert header(slashed.sign_in(), "Location") == PRESIGNED
    slashed.stubber.add_response("create_presigned_domain_url", {"AuthorizedUrl": PRESIGNED})  # ownership: cached
    assert header(slashed.get("/"), "Location") == PRESIGNED  # the session it sealed opens
    slashed.cookies.clear()
    started = _login(slashed, iss="https://idp.example.test")
    assert header(started, "Location").startswith("https://idp.example.test/authorize?")


@pytest.mark.parametrize("params", [
    {}, {"iss": "https://evil.example"}, {"iss": "https://idp.example.test/"}, {"iss": "https://IDP.example.test"},
    {"iss": "https://corp.okta.com.evil.example"}, {"iss": "https://idp.example.test", "login_hint": "a\nb"},
])
def test_login_from_an_unknown_issuer_gets_a_400_page(portal, params):
    response = _login(portal, **params)
    assert response["statusCode"] == 400 and "text/html" in header(response, "Content-Type")
    assert portal.transactions() == {} and header(response, "Location") is None


@pytest.mark.parametrize("target", [
    "https://evil.example/prod/status", f"http://{API_HOST}/prod/status", "//evil.example/prod/status",
    f"https://{API_HOST}/other/status", f"https://{API_HOST}/prodx/status", f"https://{API_HOST.upper()}/prod/status",
    f"https://user@{API_HOST}/prod/status", f"https://{API_HOST}:444/prod/status", "/prod/status",
    f"https://{API_HOST}.evil.example/prod/status", f"https://{API_HOST}/prod//evil.example",
    f"https://{API_HOST}/prod/\\evil", "javascript:alert(1)", f"https://{API_HOST}/prod/\r\nX:1",
    # Dot segments, plain or percent-encoded in any case: the browser would leave the base path (another stage)
    f"https://{API_HOST}/prod/../other/status", f"https://{API_HOST}/prod/%2E%2e/other/", f"https://{API_HOST}/prod/.",
    f"https://{API_HOST}/prod/status/.%2e/..?a=1", f"https://{API_HOST}/prod/%2e/status",
    # Not URLs urlsplit can read (an unclosed IPv6 bracket), and non-ASCII paths (a browser sends them encoded)
    "https://%5B", "A://[", f"https://{API_HOST}]x/prod/", f"https://{API_HOST}/prod/" + "\u00e9" * 600,
])
def test_login_never_follows_a_target_link_outside_the_portal(portal, target):
    response = _login(portal, iss="https://idp.example.test", target_link_uri=target)
    query = parse_qs(urlsplit(header(response, "Location")).query)
    # Back to `/`, which launches: the same URL of the portal with /status would have been a redirect there
    portal.expect_launch()
    assert header(portal.finish_sign_in(query["state"][0], query["nonce"][0]), "Location") == PRESIGNED


def test_login_follows_the_portals_own_target_link(portal):
    response = _login(portal, iss="https://idp.example.test", target_link_uri=f"https://{API_HOST}/prod/status?a=1#x")
    query = parse_qs(urlsplit(header(response, "Location")).query)
    assert header(portal.finish_sign_in(query["state"][0], query["nonce"][0]), "Location") == f"{BASE}/status?a=1"


def test_login_when_signed_in_goes_straight_on(portal):
    portal.sign_in("/status")
    idp_requests = len(portal.http.requests)
    portal.expect_launch()
    response = _login(portal, iss="https://idp.example.test", target_link_uri=f"{BASE}/?target=studio")
    assert header(response, "Location") == PRESIGNED and len(portal.http.requests) == idp_requests
    assert portal.transactions() == {}
