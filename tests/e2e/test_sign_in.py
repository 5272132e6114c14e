"""Sign-in, the second click, sign-out, a tampered session and the single-use Studio link, in Chromium."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from local.stack import LOCAL_CLIENT_ID, RunningStack
from tests.e2e.flows import (
    DEMO_DOMAIN,
    SESSION_COOKIE,
    Journal,
    assert_portal_page,
    choose_identity,
    cookies,
    is_authorize_page,
    is_studio_auth,
    on_idp,
    open_portal,
    sign_in,
    transaction_cookies,
)

pytestmark = pytest.mark.e2e


def assert_in_studio(page: Page, stack: RunningStack, profile: str = "alice") -> None:
    assert is_studio_auth(page.url, stack), page.url
    expect(page.locator("#studio-profile")).to_have_text(profile)
    expect(page.locator("#studio-domain")).to_have_text(DEMO_DOMAIN)


def test_bookmark_signs_in_at_the_idp_and_lands_in_studio(page: Page, context: BrowserContext, stack: RunningStack):
    response = open_portal(page, stack)

    # The bookmark lands on the IdP's sign-in page with an authorization-code + PKCE request for our callback.
    assert is_authorize_page(page.url, stack), page.url
    assert response.status == 200
    query = parse_qs(urlsplit(page.url).query)
    assert query["client_id"] == [LOCAL_CLIENT_ID]
    assert query["redirect_uri"] == [f"{stack.portal_url}/callback"]
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]
    assert query["state"][0] and query["nonce"][0]
    # Chromium kept the __Host- sign-in cookie although the portal is plain http on 127.0.0.1.
    assert len(transaction_cookies(context)) == 1

    response = choose_identity(page, "alice@example.com")

    assert response.status == 200
    assert_in_studio(page, stack)
    jar = cookies(context)
    assert transaction_cookies(context) == {}  # spent by the callback
    session = jar[SESSION_COOKIE]
    assert (session["domain"], session["path"]) == ("127.0.0.1", "/")  # host-only, as __Host- requires
    assert session["secure"] and session["httpOnly"] and session["sameSite"] == "Lax"


def test_a_signed_out_click_reaches_studio_in_two_portal_requests(page: Page, journal: Journal, stack: RunningStack):
    mark = journal.mark()
    sign_in(page, stack, "alice@example.com")
    assert_in_studio(page, stack)
    portal = [url for url in journal.requests_since(mark) if url.startswith(stack.portal_url + "/")]
    # The bookmark (off to the IdP) and the callback (straight into Studio): no round trip to `/` between.
    assert [urlsplit(url).path for url in portal] == ["/", "/callback"], portal


def test_two_sign_ins_started_in_one_browser_both_end_in_studio(context: BrowserContext, journal: Journal,
                                                                stack: RunningStack):
    # A bookmark and a deep link opened in two tabs while signed out: both wait on the IdP's page
    bookmark, deep = context.new_page(), context.new_page()
    open_portal(bookmark, stack)
    open_portal(deep, stack, "/?app=JupyterLab&path=lab/tree/x.ipynb")
    assert is_authorize_page(bookmark.url, stack) and is_authorize_page(deep.url, stack)
    assert len(transaction_cookies(context)) == 2
    # The later one finishes first; the earlier one still completes, each where it was started
    choose_identity(deep, "alice@example.com")
    assert_in_studio(deep, stack)
    expect(deep.locator("#studio-landing")).to_have_text("app:JupyterLab:lab/tree/x.ipynb")
    choose_identity(bookmark, "alice@example.com")
    assert_in_studio(bookmark, stack)
    expect(bookmark.locator("#studio-landing")).to_have_text("")
    assert transaction_cookies(context) == {}


def test_second_click_goes_straight_to_studio(page: Page, journal: Journal, stack: RunningStack):
    sign_in(page, stack, "alice@example.com")
    first_studio_url = page.url
    mark = journal.mark()

    open_portal(page, stack)

    assert_in_studio(page, stack)
    seen = journal.requests_since(mark)
    assert not [url for url in seen if on_idp(url, stack)], seen
    # One launch, one fresh presigned URL (ignoring whatever else Chromium fetches, like a favicon).
    assert [url for url in seen if url == f"{stack.portal_url}/"] == [f"{stack.portal_url}/"], seen
    assert [url for url in seen if is_studio_auth(url, stack)] == [page.url], seen
    assert page.url != first_studio_url


def test_sign_out_clears_the_session_and_ends_the_idp_session(page: Page, context: BrowserContext, stack: RunningStack):
    sign_in(page, stack, "alice@example.com")
    assert SESSION_COOKIE in cookies(context)

    open_portal(page, stack, "/logout")

    assert SESSION_COOKIE not in cookies(context)
    assert on_idp(page.url, stack) and urlsplit(page.url).path == "/oauth2/end_session", page.url
    expect(page.locator("input[name=redirect_uri]")).to_have_value(f"{stack.portal_url}/signed-out")

    with page.expect_navigation():
        page.locator('form[action$="/oauth2/end_session/confirm"] button[type=submit]').click()

    # The IdP sends the browser back to the portal's "signed out" page, which offers to sign in again.
    assert page.url == f"{stack.portal_url}/signed-out", page.url
    expect(page.get_by_role("heading", name="You have signed out")).to_be_visible()
    assert SESSION_COOKIE not in cookies(context)
    open_portal(page, stack)
    assert is_authorize_page(page.url, stack), page.url
    expect(page.locator('button[name=sub][value="alice@example.com"]')).to_be_visible()


def test_tampered_session_cookie_means_signing_in_again(
    page: Page, context: BrowserContext, journal: Journal, stack: RunningStack
):
    sign_in(page, stack, "alice@example.com")
    session = cookies(context)[SESSION_COOKIE]
    value = session["value"]
    middle = len(value) // 2
    tampered = value[:middle] + ("A" if value[middle] != "A" else "B") + value[middle + 1 :]
    # Not "url": for an http URL Playwright drops "secure", and Chromium refuses a __Host- cookie without it.
    context.add_cookies(
        [
            {
                "name": SESSION_COOKIE,
                "value": tampered,
                "domain": "127.0.0.1",
                "path": "/",
                "secure": True,
                "httpOnly": True,
                "sameSite": "Lax",
            }
        ]
    )
    # Replaced, not added next to the real one.
    assert [c["value"] for c in context.cookies() if c["name"] == SESSION_COOKIE] == [tampered]
    mark = journal.mark()

    response = open_portal(page, stack)

    # Straight to the IdP's sign-in page: no error page, no presigned URL.
    assert is_authorize_page(page.url, stack), page.url
    assert response.status == 200
    assert response.request.redirected_from is not None
    assert response.request.redirected_from.response().status == 302
    assert not [url for url in journal.requests_since(mark) if is_studio_auth(url, stack)]

    choose_identity(page, "alice@example.com")  # and signing in again works
    assert_in_studio(page, stack)
    assert cookies(context)[SESSION_COOKIE]["value"] not in (value, tampered)


def test_deny_at_the_idp_shows_sign_in_cancelled(page: Page, context: BrowserContext, stack: RunningStack):
    open_portal(page, stack)
    with page.expect_navigation() as navigation:
        page.locator("button[name=action][value=deny]").click()

    # The callback answered; the address bar shows the link the person opened, not the spent callback URL
    assert urlsplit(navigation.value.url).path == "/callback"
    assert page.url == f"{stack.portal_url}/"
    assert_portal_page(page, navigation.value, 403)
    expect(page.locator("h1")).to_have_text("Sign-in was cancelled")
    assert SESSION_COOKIE not in cookies(context)

    with page.expect_navigation():
        page.get_by_role("link", name="Sign in again").click()
    assert is_authorize_page(page.url, stack), page.url


def test_presigned_studio_url_is_single_use(page: Page, context: BrowserContext, stack: RunningStack):
    sign_in(page, stack, "alice@example.com")
    assert_in_studio(page, stack)
    studio_url = page.url

    again = context.new_page()
    response = again.goto(studio_url)

    assert response is not None and response.status == 403
    expect(again.locator("#studio-expired")).to_be_visible()
    expect(again.locator("#studio-profile")).to_have_count(0)


def test_an_sso_tile_through_login_lands_in_studio_at_its_target_link(page: Page, journal: Journal,
                                                                      stack: RunningStack):
    from urllib.parse import urlencode

    target = f"{stack.portal_url}/?app=JupyterLab&path=lab/tree/tile.ipynb"
    mark = journal.mark()
    page.goto(f"{stack.portal_url}/login?{urlencode({'iss': stack.idp_url, 'target_link_uri': target})}")
    assert is_authorize_page(page.url, stack), page.url
    choose_identity(page, "alice@example.com")
    assert_in_studio(page, stack)
    expect(page.locator("#studio-landing")).to_have_text("app:JupyterLab:lab/tree/tile.ipynb")
    portal = [urlsplit(url).path for url in journal.requests_since(mark) if url.startswith(stack.portal_url + "/")]
    assert portal == ["/login", "/callback"], portal
