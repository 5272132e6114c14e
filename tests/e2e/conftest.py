"""Browser fixtures: Debian's Chromium (never a downloaded one), one local stack per module, a fresh
browser context per test.

Every context records what the browser did (requests, main-frame responses, console messages) in a
``Journal``; a test ends with an error if any page it loaded reported a Content Security Policy violation.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from local.stack import RunningStack, running_stack
from tests.e2e.flows import Journal

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run 'bash scripts/ensure-chromium' (never 'playwright install')")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    browser = playwright_driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(scope="module")
def stack() -> Iterator[RunningStack]:
    # Module scope, not session: running_stack patches os.environ for as long as it runs, and the
    # other test directories must not inherit the portal's local environment.
    with running_stack() as running:
        yield running


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(service_workers="block")
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    # Only loopback exists here; the IdP's pages link a CDN stylesheet. Fail it at once instead of
    # waiting for name resolution (every URL of the stack is http://127.0.0.1).
    context.route("https://**/*", lambda route: route.abort())
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def journal(context: BrowserContext) -> Iterator[Journal]:
    journal = Journal.attach(context)
    yield journal
    assert not journal.csp_violations(), f"a page reported CSP violations: {journal.csp_violations()}"


@pytest.fixture
def page(context: BrowserContext, journal: Journal) -> Page:
    return context.new_page()
