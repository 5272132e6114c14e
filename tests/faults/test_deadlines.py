"""Every request ends with the portal's own page in time, whatever its dependencies do: the IdP and SageMaker
hang (accept the request, never answer) for sign-in, callback, launch, chooser and status, and the Lambda
context has little time left. The answer must leave at least one second before
``context.get_remaining_time_in_millis()`` runs out (API Gateway would otherwise answer a bare 502/504).

The local runner's context counts down from its function timeout, which each test sets for the one request
it times (the set-up runs with plenty of time). The local server runs each invocation on a thread of its own;
Lambda runs the handler on the main thread, so the requests that reach each dependency are timed there too."""

import threading
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from local.adapter import LambdaContext
from local.seed import demo_targets_json
from local.stack import running_stack
from tests.support.events import event_for_url
from tests.support.http_client import Browser, Reply
from tests.support.idp_server import misbehaving_idp

HANG_SECONDS = 60  # far past any budget: the IdP holds the request until the test lets go
SIM_HANG_SECONDS = 8  # past botocore's 5 s read timeout: every attempt hangs
MARGIN = 1.0
BUDGETS = [3.0, 2.0]  # seconds left in the Lambda context; the second leaves 0.25 s (warm) or none (cold) for dependencies
WHERE = ["request thread", "main thread"]  # where the handler runs: the local server's thread, or as in Lambda


@pytest.fixture(scope="module")
def idp():
    with misbehaving_idp() as served:
        served.slow_seconds = HANG_SECONDS
        yield served


@pytest.fixture(scope="module")
def stack(idp):
    env = {"PORTAL_OIDC_ISSUER": idp.idp.issuer, "PORTAL_OIDC_CLIENT_ID": idp.idp.client_id,
           "PORTAL_OIDC_CLIENT_SECRET": "deadline-test-secret", "PORTAL_TARGETS": demo_targets_json(),
           "PORTAL_DOMAIN_ID": None}
    with running_stack(local_idp=False, env_overrides=env) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh(idp, stack):
    from portal import runtime

    idp.faults.clear()
    stack.sim.reset()
    runtime.reset()
    stack.adapter.function_timeout_seconds = 30.0
    yield
    idp.faults.clear()
    idp.release_held()
    stack.sim.reset()  # ends the simulator's held requests too
    stack.adapter.function_timeout_seconds = 30.0


def sign_in(stack, idp, browser, email="alice@example.com", groups=("ml-team",)):
    # Started at /status, so that the callback only redirects: no launch warms the caches the test times
    start = browser.request("GET", stack.portal_url + "/status?target=demo")
    query = parse_qs(urlsplit(start.header("Location")).query)
    idp.idp.next_id_token = idp.idp.sign(idp.idp.claims(nonce=query["nonce"][0], email=email, aud=idp.idp.client_id,
                                                        **{"cognito:groups": list(groups)}))
    return query["state"][0]


def timed_within(stack, budget, browser, path, where="request thread"):
    """The request with ``budget`` seconds in the Lambda context: its reply and how long it took."""
    if where == "main thread":
        return invoked_on_the_main_thread(stack, budget, browser, path)
    stack.adapter.function_timeout_seconds = budget
    started = time.monotonic()
    reply = browser.request("GET", stack.portal_url + path)
    return reply, time.monotonic() - started


def invoked_on_the_main_thread(stack, budget, browser, path):
    assert threading.current_thread() is threading.main_thread()
    handler = stack.adapter.load()
    event = event_for_url(path, cookies=dict(browser.cookies))
    started = time.monotonic()
    result = handler(event, LambdaContext(aws_request_id=str(uuid.uuid4()), deadline=started + budget))
    elapsed = time.monotonic() - started
    headers = [*((result.get("headers") or {}).items()),
               *((name, value) for name, values in (result.get("multiValueHeaders") or {}).items() for value in values)]
    return Reply(result["statusCode"], headers, result["body"].encode()), elapsed


def assert_portal_page_in_time(reply, elapsed, budget, status, text):
    assert reply.status == status, reply.text[:400]
    assert reply.header("Content-Type").startswith("text/html") and 'id="request-id"' in reply.text
    assert text in reply.text
    assert elapsed <= budget - MARGIN, f"answered after {elapsed:.2f} s of {budget} s: {reply.text[-2500:]}"


def hang_sagemaker(stack):
    stack.sim.inject("*", delay_seconds=SIM_HANG_SECONDS, times=1000)


@pytest.mark.parametrize("budget", BUDGETS)
@pytest.mark.parametrize("where", WHERE)
def test_sign_in_with_the_idp_hanging(stack, idp, budget, where):
    idp.faults["/.well-known/openid-configuration"] = "slow"
    reply, elapsed = timed_within(stack, budget, Browser(), "/", where)
    assert_portal_page_in_time(reply, elapsed, budget, 502, "sign-in service is not answering")


@pytest.mark.parametrize("budget", BUDGETS)
@pytest.mark.parametrize("endpoint", ["/token", "/jwks"])
@pytest.mark.parametrize("where", WHERE)
def test_callback_with_the_idp_hanging(stack, idp, budget, endpoint, where):
    browser = Browser()
    state = sign_in(stack, idp, browser)
    idp.faults[endpoint] = "slow"
    reply, elapsed = timed_within(stack, budget, browser, f"/callback?code=c0de&state={state}", where)
    assert_portal_page_in_time(reply, elapsed, budget, 502, "sign-in service is not answering")
    assert "__Host-portal-session" not in browser.cookies


def signed_in(stack, idp, **claims):
    browser = Browser()
    state = sign_in(stack, idp, browser, **claims)
    browser.request("GET", f"{stack.portal_url}/callback?code=c0de&state={state}")  # signs in, then launches
    assert "__Host-portal-session" in browser.cookies
    return browser


@pytest.mark.parametrize("budget", BUDGETS)
@pytest.mark.parametrize("where", WHERE)
def test_launch_with_sagemaker_hanging(stack, idp, budget, where):
    browser = signed_in(stack, idp)
    hang_sagemaker(stack)
    reply, elapsed = timed_within(stack, budget, browser, "/?target=demo", where)
    assert_portal_page_in_time(reply, elapsed, budget, 503, "can't be opened right now")


@pytest.mark.parametrize("budget", BUDGETS)
def test_chooser_with_sagemaker_hanging(stack, idp, budget):
    browser = signed_in(stack, idp)  # in ml-team: both Studios, so the chooser
    hang_sagemaker(stack)
    reply, elapsed = timed_within(stack, budget, browser, "/")
    assert_portal_page_in_time(reply, elapsed, budget, 200, "be checked right now")


@pytest.mark.parametrize("budget", BUDGETS)
def test_status_with_sagemaker_hanging(stack, idp, budget):
    browser = signed_in(stack, idp)
    hang_sagemaker(stack)
    reply, elapsed = timed_within(stack, budget, browser, "/status?target=team")
    assert_portal_page_in_time(reply, elapsed, budget, 503, "can't be opened right now")


@pytest.mark.parametrize("budget", BUDGETS)
@pytest.mark.parametrize("where", WHERE)
def test_launch_with_everything_hanging_on_a_cold_container(stack, idp, budget, where):
    # Signed in on one container; the next request lands on a fresh one with the IdP and SageMaker both hung
    browser = signed_in(stack, idp)
    from portal import runtime

    runtime.reset()
    for path in ("/.well-known/openid-configuration", "/jwks", "/token"):
        idp.faults[path] = "slow"
    hang_sagemaker(stack)
    reply, elapsed = timed_within(stack, budget, browser, "/?target=demo", where)
    assert_portal_page_in_time(reply, elapsed, budget, 503, "can't be opened right now")
