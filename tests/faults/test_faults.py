"""Faults on the wire: the identity provider and SageMaker down, slow, refusing or answering garbage.
Each ends in the right page and status, within a bound well under API Gateway's 29 s, leaking nothing."""

import socket
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from local.stack import running_stack
from tests.support.http_client import Browser
from tests.support.idp_server import misbehaving_idp
from tests.support.tokens import new_rsa_key

API_GATEWAY_LIMIT = 29.0


@pytest.fixture(scope="module")
def idp():
    with misbehaving_idp() as served:
        yield served


@pytest.fixture(scope="module")
def stack(idp):
    env = {"PORTAL_OIDC_ISSUER": idp.idp.issuer, "PORTAL_OIDC_CLIENT_ID": idp.idp.client_id,
           "PORTAL_OIDC_CLIENT_SECRET": "fault-test-secret"}
    with running_stack(local_idp=False, env_overrides=env) as running:
        yield running


@pytest.fixture(autouse=True)
def healthy(idp, stack):
    idp.faults.clear()
    idp.idp.token_status = 200
    keys = dict(idp.idp.keys)
    stack.sim.reset()
    from portal import runtime

    runtime.reset()  # a cold container: nothing cached from the previous test
    yield
    idp.faults.clear()
    idp.idp.keys = keys


def timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def sign_in(stack, idp, browser, email="alice@example.com"):
    start = browser.request("GET", stack.portal_url + "/")
    query = parse_qs(urlsplit(start.header("Location")).query)
    idp.idp.next_id_token = idp.idp.sign(idp.idp.claims(nonce=query["nonce"][0], email=email,
                                                        aud=idp.idp.client_id))
    callback = browser.request("GET", f"{stack.portal_url}/callback?code=c0de&state={query['state'][0]}")
    # The callback launched already (it answers with the launch): count each test's own calls from here.
    stack.sim.clear_calls()
    return callback


def assert_clean_page(response, status, text):
    assert response.status == status, response.text[:500]
    assert text in response.text
    for internal in ("Traceback", "arn:aws", "botocore", "127.0.0.1:" + "0", "fault-test-secret", "Exception"):
        assert internal not in response.text


@pytest.mark.parametrize("fault", ["down", "garbage", "huge", "slow"])
def test_discovery_faults_end_in_a_clear_page_in_bounded_time(stack, idp, fault):
    idp.faults["/.well-known/openid-configuration"] = fault
    response, elapsed = timed(lambda: Browser().request("GET", stack.portal_url + "/"))
    assert_clean_page(response, 502, "sign-in service is not answering")
    assert elapsed < API_GATEWAY_LIMIT / 2


@pytest.mark.parametrize("path, fault", [("/token", "down"), ("/token", "slow"), ("/token", "garbage"),
                                         ("/jwks", "down"), ("/jwks", "garbage")])
def test_callback_faults_end_in_a_clear_page_in_bounded_time(stack, idp, path, fault):
    browser = Browser()
    idp.faults[path] = fault
    response, elapsed = timed(lambda: sign_in(stack, idp, browser))
    assert_clean_page(response, 502, "sign-in service is not answering")
    assert "__Host-portal-session" not in browser.cookies
    assert elapsed < API_GATEWAY_LIMIT / 2


def test_token_endpoint_refusal_is_a_sign_in_failure(stack, idp):
    idp.idp.token_status = 400
    assert_clean_page(sign_in(stack, idp, Browser()), 401, "Sign-in didn")


def test_rotated_signing_key_is_picked_up(stack, idp):
    # Given a warm container that cached the JWKS with key-1
    assert sign_in(stack, idp, Browser()).status == 302
    # When the issuer rotates to a new key (and a while passes: refetches are rate-limited)
    idp.idp.keys = {"key-2": new_rsa_key()}
    from portal import runtime

    runtime.get().oidc._keys_fetched -= 60
    jwks_fetches = idp.hits.get("/jwks", 0)
    # Then the next sign-in refetches the JWKS once and succeeds
    browser = Browser()
    start = browser.request("GET", stack.portal_url + "/")
    query = parse_qs(urlsplit(start.header("Location")).query)
    idp.idp.next_id_token = idp.idp.sign(idp.idp.claims(nonce=query["nonce"][0]), kid="key-2")
    response = browser.request("GET", f"{stack.portal_url}/callback?code=c&state={query['state'][0]}")
    assert response.status == 302 and "__Host-portal-session" in browser.cookies
    assert idp.hits["/jwks"] == jwks_fetches + 1


@pytest.mark.parametrize("code, status, http_status, times, text", [
    ("ThrottlingException", 503, None, 10, "can't be opened right now"),
    ("InternalFailure", 503, 500, 10, "can't be opened right now"),
    ("ServiceUnavailable", 503, 503, 10, "can't be opened right now"),
    ("AccessDeniedException", 502, None, 1, "AWS refused"),
    ("ValidationException", 502, None, 1, "AWS refused"),
])
def test_sagemaker_errors_at_presign(stack, idp, code, status, http_status, times, text):
    browser = Browser()
    sign_in(stack, idp, browser)
    stack.sim.inject("CreatePresignedDomainUrl", code, http_status=http_status, times=times)
    response, elapsed = timed(lambda: browser.request("GET", stack.portal_url + "/"))
    assert_clean_page(response, status, text)
    assert len(stack.sim.calls_to("CreatePresignedDomainUrl")) <= 3  # bounded retries
    assert elapsed < API_GATEWAY_LIMIT


def test_sagemaker_resource_not_found_at_presign(stack, idp):
    browser = Browser()
    sign_in(stack, idp, browser)
    stack.sim.inject("CreatePresignedDomainUrl", "ResourceNotFound", times=1)
    assert_clean_page(browser.request("GET", stack.portal_url + "/"), 404, "Studio profile")


def test_sagemaker_read_timeout_is_retried(stack, idp):
    browser = Browser()
    # The first DescribeUserProfile (the callback's launch) hangs past the 5 s read timeout; the retry answers.
    stack.sim.inject("DescribeUserProfile", delay_seconds=6, times=1)
    response, elapsed = timed(lambda: sign_in(stack, idp, browser))
    assert response.status == 302 and response.header("Location").startswith(stack.sim_url + "/")
    assert elapsed < API_GATEWAY_LIMIT


def test_sagemaker_unreachable_is_a_clear_503(idp):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    env = {"PORTAL_OIDC_ISSUER": idp.idp.issuer, "PORTAL_OIDC_CLIENT_ID": idp.idp.client_id,
           "PORTAL_OIDC_CLIENT_SECRET": "fault-test-secret"}
    # SageMaker's endpoint is a port nobody listens on: every attempt is refused.
    env["AWS_ENDPOINT_URL_SAGEMAKER"] = f"http://127.0.0.1:{port}"
    with running_stack(local_idp=False, env_overrides=env) as running:
        browser = Browser()
        sign_in(running, idp, browser)
        response, elapsed = timed(lambda: browser.request("GET", running.portal_url + "/"))
        assert_clean_page(response, 503, "can't be opened right now")
        assert elapsed < API_GATEWAY_LIMIT
