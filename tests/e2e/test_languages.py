"""The portal's pages in a German and a Japanese browser: Chromium's own Accept-Language (from its locale) picks
the page's language; the page says it (lang, Content-Language), its texts are that language's, identities, names
and links are untouched, and axe-core finds nothing in light or dark mode, on every template (rendered with the
context its route gives it, as test_accessibility.py does in English) and on the pages real flows reach."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from local.stack import RunningStack
from portal import i18n
from portal.pages import helpdesk_link, shared
from tests.e2e.conftest import TIMEOUT_MS
from tests.e2e.flows import Journal, assert_accessible, assert_portal_page, open_portal, screenshot, sign_in
from tests.e2e.test_accessibility import CASES, PAGES, serve

pytestmark = pytest.mark.e2e

# Chromium's locale -> the page's language
LOCALES = {"de-DE": "de", "ja-JP": "ja"}


@pytest.fixture(params=list(LOCALES))
def localized(request: pytest.FixtureRequest, browser: Browser) -> Iterator[tuple[str, BrowserContext, Journal]]:
    context = browser.new_context(service_workers="block", locale=request.param)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    context.route("https://**/*", lambda route: route.abort())
    journal = Journal.attach(context)
    try:
        yield LOCALES[request.param], context, journal
    finally:
        context.close()
    assert not journal.csp_violations(), journal.csp_violations()


def _(language: str, text: str) -> str:
    return i18n.translations(language).gettext(text)


@pytest.mark.parametrize(("path", "status", "heading"), [
    ("/no-such-page", 404, "There's nothing here"),
    ("/callback?error=access_denied", 403, "Sign-in was cancelled"),
])
def test_pages_come_in_the_browsers_language(localized, stack: RunningStack, path: str, status: int, heading: str):
    language, context, _journal = localized
    page = context.new_page()
    response = open_portal(page, stack, path)
    assert_portal_page(page, response, status)  # axe included
    assert response.headers["content-language"] == language
    expect(page.locator("html")).to_have_attribute("lang", language)
    assert _(language, heading) != heading
    expect(page.locator("h1")).to_have_text(_(language, heading))


def test_a_refusal_keeps_the_identity_the_profile_and_the_links(localized, stack: RunningStack):
    language, context, _journal = localized
    page: Page = context.new_page()
    response = sign_in(page, stack, "john.doe@example.com")
    assert_portal_page(page, response, 403)
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("h1")).to_have_text(_(language, "This Studio profile isn't registered to you"))
    expect(page.locator("main strong").first).to_have_text("john.doe@example.com")
    expect(page.locator("main code").first).to_have_text("john-doe")
    expect(page.get_by_role("link", name=_(language, "Sign out"))).to_have_attribute(
        "href", f"{stack.portal_url}/logout")
    screenshot(page, f"e2e-403-not-yours-{language}.png")


def render(stack: RunningStack, name: str, language: str, context: dict[str, Any]) -> str:
    base = stack.portal_url
    values = {"base_url": base, "request_id": "8e4e8d9e-431e-44e0-8eba-b49f69a97e22", "portal_title": "SageMaker Studio",
              "helpdesk": helpdesk_link("mailto:ml-help@example.com"), "retry_url": f"{base}/?target=demo",
              "address": None, **context}
    values["entries"] = [{**entry, "link": entry["link"] and base + entry["link"]} for entry in values.get("entries", [])]
    return shared().render(name, language, **values)


def heading_of(html: str) -> str:
    """The h1 of a rendered page (headings hold no values, so the catalog translates them whole)."""
    return html.split('<h1 id="heading">', 1)[1].split("</h1>", 1)[0].strip()


@pytest.mark.parametrize("language", list(LOCALES.values()))
@pytest.mark.parametrize(("name", "variant"), CASES, ids=[f"{name}-{index}" for name, index in CASES])
def test_every_page_in_german_and_japanese_has_no_accessibility_violation(
        page: Page, journal: Journal, stack: RunningStack, name: str, variant: int, language: str):
    serve(page, stack, render(stack, name, language, PAGES[name][variant]))

    expect(page.locator("html")).to_have_attribute("lang", language)
    english = heading_of(render(stack, name, "en", PAGES[name][variant]))
    assert _(language, english) != english
    expect(page.locator("h1")).to_have_text(_(language, english))
    assert_accessible(page)
    assert page.evaluate("window.__cspViolations") == []
