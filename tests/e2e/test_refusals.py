"""Signed-in people the portal will not send to Studio: the page each one sees, and no Studio link."""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from local.stack import RunningStack
from tests.e2e.flows import (
    SESSION_COOKIE,
    Journal,
    assert_portal_page,
    cookies,
    is_studio_auth,
    origin,
    screenshot,
    sign_in,
)

pytestmark = pytest.mark.e2e


def test_look_alike_user_is_refused_the_profile_of_someone_else(
    page: Page, context: BrowserContext, journal: Journal, stack: RunningStack
):
    minted_before = len(stack.sim.minted())

    response = sign_in(page, stack, "john.doe@example.com")

    assert_portal_page(page, response, 403)
    assert page.url == f"{stack.portal_url}/"
    expect(page.locator("h1")).to_have_text("This Studio profile isn't registered to you")
    expect(page.locator("main strong").first).to_have_text("john.doe@example.com")
    expect(page.locator("main code").first).to_have_text("john-doe")
    expect(page.get_by_role("link", name="Sign out")).to_have_attribute("href", f"{stack.portal_url}/logout")
    assert SESSION_COOKIE in cookies(context)  # signed in, just not allowed in
    # No presigned URL was made, and the browser never went near Studio.
    assert len(stack.sim.minted()) == minted_before
    assert not [url for url in journal.requests if is_studio_auth(url, stack)]
    assert not [url for url in journal.requests if origin(url) == origin(str(stack.sim_url))]
    screenshot(page, "e2e-403-not-yours.png")


@pytest.mark.parametrize(
    ("subject", "status", "heading", "profile", "shot"),
    [
        ("carol@example.com", 404, "You don't have a SageMaker Studio profile yet", "carol", None),
        ("pending.pat@example.com", 409, "Your Studio profile isn't ready yet", "pending-pat", "e2e-409-not-ready.png"),
    ],
    ids=["no-profile", "not-ready"],
)
def test_profile_missing_or_not_ready(
    page: Page,
    journal: Journal,
    stack: RunningStack,
    subject: str,
    status: int,
    heading: str,
    profile: str,
    shot: str | None,
):
    response = sign_in(page, stack, subject)

    assert_portal_page(page, response, status)
    expect(page.locator("h1")).to_have_text(heading)
    expect(page.locator("main code").first).to_have_text(profile)
    expect(page.get_by_role("link", name="Try again")).to_have_attribute("href", f"{stack.portal_url}/")
    if status == 409:
        expect(page.locator("main strong").first).to_have_text("Pending")
    assert not [url for url in journal.requests if is_studio_auth(url, stack)]
    if shot:
        screenshot(page, shot)
