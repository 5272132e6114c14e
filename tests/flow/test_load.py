"""A bounded load run on loopback through the local runner: hundreds of simulated users signing in and
clicking repeatedly against the simulated SageMaker. Zero errors and zero cross-user launches are asserted;
throughput and latency are printed, not asserted."""

import os
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import pytest

from local.stack import running_stack
from tests.support.http_client import Browser

USERS = int(os.environ.get("PORTAL_LOAD_USERS", "200"))
CLICKS = int(os.environ.get("PORTAL_LOAD_CLICKS", "3"))
WORKERS = 16


@pytest.fixture(scope="module")
def stack():
    # The local IdP gives unknown users no email_verified, which the portal refuses: register them verified.
    users = [{"sub": f"load-user-{index}@example.com",
              "claims": {"email": f"load-user-{index}@example.com", "email_verified": True}} for index in range(USERS)]
    with running_stack(users=users) as running:
        yield running


def one_user(stack, index: int, latencies: list[float], lock: threading.Lock) -> list[str]:
    """Sign in as user<index>, click CLICKS times; return the problems seen (none expected)."""
    problems = []
    email = f"load-user-{index}@example.com"
    browser = Browser()
    to_idp = browser.request("GET", stack.portal_url + "/")
    # The local IdP (a test stand-in, not what is under test) now and then answers a burst of concurrent
    # sign-ins without its redirect: ask it again, a bounded number of times, and report it if it never does.
    for _attempt in range(3):
        to_callback = browser.request("POST", to_idp.header("Location"),
                                      headers=[("Content-Type", "application/x-www-form-urlencoded")],
                                      body=f"sub={email}")
        if to_callback.header("Location"):
            break
    else:
        return [f"{email}: the local IdP answered {to_callback.status} without a redirect, three times"]
    # The callback launches at once: its own answer is the 302 into this person's Studio.
    signed_in = browser.request("GET", to_callback.header("Location"))
    if signed_in.status != 302:
        return [f"{email}: sign-in answered {signed_in.status}"]
    if stack.sim.redeem(signed_in.header("Location")).profile != f"load-user-{index}":
        problems.append(f"{email}: the callback landed in another profile")
    for _ in range(CLICKS):
        started = time.perf_counter()
        response = browser.request("GET", stack.portal_url + "/")
        elapsed = time.perf_counter() - started
        with lock:
            latencies.append(elapsed)
        if response.status != 302:
            problems.append(f"{email}: launch answered {response.status}")
            continue
        session = stack.sim.redeem(response.header("Location"))
        if session.profile != f"load-user-{index}":
            problems.append(f"{email}: landed in profile {session.profile}")
        if parse_qs(urlsplit(response.header("Location")).query).get("token") is None:
            problems.append(f"{email}: no token in the URL")
    return problems


def test_hundreds_of_users_clicking_get_only_their_own_studio(stack):
    sim = stack.sim
    for index in range(USERS):
        sim.add_profile("d-demo0portal01", f"load-user-{index}", tags={"studiouserid": f"load-user-{index}@example.com"})
    latencies: list[float] = []
    lock = threading.Lock()
    started = time.perf_counter()
    with ThreadPoolExecutor(WORKERS) as pool:
        results = list(pool.map(lambda index: one_user(stack, index, latencies, lock), range(USERS)))
    wall = time.perf_counter() - started
    problems = [problem for result in results for problem in result]
    assert problems == []
    assert len(latencies) == USERS * CLICKS
    assert len(sim.minted()) == USERS * (CLICKS + 1)  # the callback's launch and each click
    ordered = sorted(latencies)
    print(f"\nload: {USERS} users x {CLICKS} clicks with {WORKERS} concurrent clients in {wall:.1f} s "
          f"(sign-ins included); launches p50 {statistics.median(ordered) * 1000:.1f} ms, "
          f"p95 {ordered[int(len(ordered) * 0.95)] * 1000:.1f} ms, max {ordered[-1] * 1000:.1f} ms; "
          f"errors 0, cross-user launches 0")
