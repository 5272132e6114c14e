"""Whole flows over HTTP on loopback: the real oidc-provider-mock, the SageMaker simulator, the portal
handler behind the API Gateway adapter. The same stack `make dev` runs."""

import io
import logging
import re
from contextlib import redirect_stdout
from urllib.parse import parse_qs, urlsplit

from local.stack import running_stack
from tests.support.http_client import Browser

SESSION_COOKIE = "__Host-portal-session"


def sign_in(stack, browser: Browser, email: str, start: str = "/"):
    """Follow the portal to the IdP, pick the user, come back; return the callback's own response (for a
    launch, the launch itself: Studio, the chooser or a page)."""
    to_idp = browser.request("GET", stack.portal_url + start)
    assert to_idp.status == 302, to_idp.text
    authorize = to_idp.header("Location")
    assert authorize.startswith(stack.idp_url)
    to_callback = browser.request("POST", authorize, headers=[("Content-Type", "application/x-www-form-urlencoded")],
                                  body=f"sub={email}")
    assert to_callback.status == 302, to_callback.text
    callback = browser.request("GET", to_callback.header("Location"))
    assert callback.status != 500, callback.text
    return callback


def test_bookmark_sign_in_launch_and_warm_second_click(stack, sim):
    browser = Browser()
    # Given alice signs in from the bookmark (the portal's first request sent her to the IdP)
    sim.clear_calls()
    # When the IdP sends her back, the callback itself sends her on to Studio: no second portal request
    first = sign_in(stack, browser, "alice@example.com")
    assert SESSION_COOKIE in browser.cookies
    # Then the portal checked ownership once and minted a URL for her profile only
    assert first.status == 302
    assert [call.operation for call in sim.calls] == ["DescribeUserProfile", "ListTags", "CreatePresignedDomainUrl"]
    presign = sim.calls_to("CreatePresignedDomainUrl")[0]
    assert presign["UserProfileName"] == "alice" and presign["DomainId"] == "d-demo0portal01"
    assert presign["ExpiresInSeconds"] == 30 and presign["SessionExpirationDurationInSeconds"] == 43200
    assert sim.redeem(first.header("Location")).profile == "alice"
    # And the second click costs exactly one AWS call and no IdP visit
    sim.clear_calls()
    second = browser.request("GET", stack.portal_url + "/")
    assert second.status == 302 and not second.header("Location").startswith(stack.idp_url)
    assert [call.operation for call in sim.calls] == ["CreatePresignedDomainUrl"]


def test_look_alike_identity_never_gets_a_url(stack, sim):
    browser = Browser()
    sign_in(stack, browser, "john.doe@example.com")
    response = browser.request("GET", stack.portal_url + "/")
    assert response.status == 403 and "isn't registered to you" in response.text
    assert sim.calls_to("CreatePresignedDomainUrl") == [] and sim.minted() == []


def test_missing_and_pending_profiles(stack, sim):
    carol, pat = Browser(), Browser()
    sign_in(stack, carol, "carol@example.com")
    assert carol.request("GET", stack.portal_url + "/").status == 404
    sign_in(stack, pat, "pending.pat@example.com")
    response = pat.request("GET", stack.portal_url + "/")
    assert response.status == 409 and "Pending" in response.text


def test_throttling_is_retried_within_bounds_then_reported(stack, sim):
    browser = Browser()
    sign_in(stack, browser, "alice@example.com")
    # One throttle: botocore's retry absorbs it and the user still lands in Studio.
    sim.inject("DescribeUserProfile", "ThrottlingException", times=1)
    assert browser.request("GET", stack.portal_url + "/").status == 302
    # Persistent throttling: a clear 503 page after a bounded number of attempts.
    sim.reset()
    sim.inject("CreatePresignedDomainUrl", "ThrottlingException", times=10)
    response = browser.request("GET", stack.portal_url + "/")
    assert response.status == 503 and "try again" in response.text.lower()
    assert len(sim.calls_to("CreatePresignedDomainUrl")) == 3


def test_domain_in_sso_mode_gets_the_domain_page(stack, sim):
    with running_stack(env_overrides={"PORTAL_DOMAIN_ID": "d-sso0domain01"}) as other:
        browser = Browser()
        sign_in(other, browser, "alice@example.com")
        response = browser.request("GET", other.portal_url + "/")
        assert response.status == 503 and "IAM authentication" in response.text


def test_stage_prefix_is_kept_in_callback_and_return_addresses():
    with running_stack(stage_prefix="/prod") as staged:
        browser = Browser()
        assert staged.portal_url.endswith("/prod")
        to_idp = browser.request("GET", staged.portal_url + "/")
        redirect_uri = parse_qs(urlsplit(to_idp.header("Location")).query)["redirect_uri"][0]
        assert redirect_uri == staged.portal_url + "/callback"


def test_no_credential_reaches_any_log_line_with_debug_on(stack, sim, caplog, monkeypatch):
    # Given every logger at DEBUG (the function's own via LOG_LEVEL, libraries via the root logger)
    caplog.set_level(logging.DEBUG)
    logging.getLogger().setLevel(logging.DEBUG)
    from portal.observability import logger as portal_logger

    portal_logger.setLevel(logging.DEBUG)
    stdout = io.StringIO()
    browser = Browser()
    with redirect_stdout(stdout):
        # When a whole sign-in and two launches happen
        to_idp = browser.request("GET", stack.portal_url + "/")
        authorize = to_idp.header("Location")
        to_callback = browser.request("POST", authorize, headers=[("Content-Type", "application/x-www-form-urlencoded")],
                                      body="sub=alice@example.com")
        callback_url = to_callback.header("Location")
        # the callback's own answer is the first launch, then one more click
        urls = [browser.request("GET", callback_url).header("Location"),
                browser.request("GET", stack.portal_url + "/").header("Location")]
        session_cookie = browser.cookies.get(SESSION_COOKIE)
        browser.request("GET", stack.portal_url + "/logout")
    portal_logger.setLevel(logging.INFO)
    # Then none of the bearer credentials appear anywhere in what was logged
    code = parse_qs(urlsplit(callback_url).query)["code"][0]
    state = parse_qs(urlsplit(callback_url).query)["state"][0]
    secrets = {
        "authorization code": code,
        "state": state,
        "presigned token": parse_qs(urlsplit(urls[0]).query)["token"][0],
        "second presigned token": parse_qs(urlsplit(urls[1]).query)["token"][0],
        "session cookie": session_cookie,
        "client secret": stack.env["PORTAL_OIDC_CLIENT_SECRET"],
        "session key": stack.env["PORTAL_SESSION_KEY"],
    }
    # The local IdP (authlib, oidc_provider_mock) and the loopback servers run in this process only for the
    # test; in production they are other systems, so their own debug lines are not the portal's.
    portal_side = [record for record in caplog.records
                   if not record.name.startswith(("authlib", "oidc_provider_mock", "werkzeug", "local."))]
    assert any(record.name.startswith("botocore") or record.name == "sagemaker-studio-portal"
               for record in portal_side)
    logged = stdout.getvalue() + "\n".join(record.getMessage() + repr(record.__dict__) for record in portal_side)
    # The capture worked: the audit line says who launched which profile in which domain, and the outcome
    audit = [record for record in portal_side if record.getMessage() == "launch"]
    assert [(r.identity, r.profile, r.domain_id, r.outcome) for r in audit] == [
        ("alice@example.com", "alice", "d-demo0portal01", "launched")] * 2
    for name, secret in secrets.items():
        assert secret and secret not in logged, f"{name} leaked into the logs"
    assert not re.search(r"eyJ[A-Za-z0-9_-]{10,}\.", logged), "a JWT leaked into the logs"
