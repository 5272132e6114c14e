"""Every portal page renders under its Content-Security-Policy: the hashed inline stylesheet is accepted
and nothing is reported as a violation. (The refusal and cancel pages get the same check where they
are reached by signing in; the ``journal`` fixture fails any test whose pages logged a violation.)"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Route, expect

from local.stack import RunningStack
from tests.e2e.flows import Journal, assert_portal_page, open_portal

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("path", "status", "heading"),
    [
        ("/no-such-page", 404, None),
        ("/callback", 401, "Sign-in didn't complete"),
        ("/callback?error=access_denied", 403, "Sign-in was cancelled"),
        ("/callback?error=server_error", 401, "Sign-in didn't complete"),
        ("/callback?code=abc&state=def", 401, "Sign-in didn't complete"),  # no sign-in cookie
        ("/callback?code=" + "a" * 3000 + "&state=x", 400, None),
    ],
    ids=["not-found", "callback-empty", "cancelled", "idp-error", "no-transaction", "too-long"],
)
def test_portal_page_renders_under_its_csp(
    page: Page, journal: Journal, stack: RunningStack, path: str, status: int, heading: str | None
):
    response = open_portal(page, stack, path)

    assert_portal_page(page, response, status)
    if heading:
        expect(page.locator("h1")).to_have_text(heading)
    assert not journal.csp_violations()


def test_the_csp_check_notices_a_stylesheet_that_does_not_match_its_hash(
    page: Page, journal: Journal, stack: RunningStack
):
    """The checks above could pass vacuously; here the page's CSS changes by one byte under the same
    policy, and the browser must refuse it and say so."""

    def alter_stylesheet(route: Route) -> None:
        response = route.fetch()
        body = response.text().replace("<style>", "<style> ", 1)
        route.fulfill(response=response, body=body)

    page.route(f"{stack.portal_url}/no-such-page", alter_stylesheet)
    open_portal(page, stack, "/no-such-page")

    expect(page.locator("main")).to_have_css("max-width", "none")
    assert journal.csp_violations(), journal.console
    assert page.evaluate("window.__cspViolations")
    journal.console.clear()  # expected here; the fixture's check is for every other test
