"""What the browser tests do and check over and over: sign in at the local IdP, inspect cookies, and
verify that a portal page rendered under its Content-Security-Policy."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Request, Response, expect

from local.stack import RunningStack

SESSION_COOKIE = "__Host-portal-session"
TRANSACTION_PREFIX = "__Host-portal-signin-"  # one cookie per sign-in in progress
DEMO_DOMAIN = "d-demo0portal01"
STUDIO_AUTH_PATH = "/studio/auth"
RESULTS_DIR = Path(__file__).resolve().parents[2] / "test-results"

# Records Content Security Policy violations the way the page itself sees them, in addition to the
# console. Injected over CDP, so the portal's own CSP does not apply to it.
_CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


@dataclass
class Journal:
    """Everything the browser context requested and logged, in order."""

    requests: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    @classmethod
    def attach(cls, context: BrowserContext) -> Journal:
        journal = cls()
        context.add_init_script(_CSP_LISTENER)
        context.on("request", journal._on_request)
        context.on("console", journal._on_console)
        return journal

    def _on_request(self, request: Request) -> None:
        self.requests.append(request.url)

    def _on_console(self, message: ConsoleMessage) -> None:
        self.console.append(message.text)

    def mark(self) -> int:
        return len(self.requests)

    def requests_since(self, mark: int) -> list[str]:
        return self.requests[mark:]

    def csp_violations(self) -> list[str]:
        return [text for text in self.console if "Content Security Policy" in text]


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def on_idp(url: str, stack: RunningStack) -> bool:
    return origin(url) == origin(str(stack.idp_url))


def is_authorize_page(url: str, stack: RunningStack) -> bool:
    return on_idp(url, stack) and urlsplit(url).path == "/oauth2/authorize"


def is_studio_auth(url: str, stack: RunningStack) -> bool:
    return origin(url) == origin(str(stack.sim_url)) and urlsplit(url).path == STUDIO_AUTH_PATH


def open_portal(page: Page, stack: RunningStack, path: str = "/") -> Response:
    response = page.goto(stack.portal_url + path)
    assert response is not None
    return response


def choose_identity(page: Page, subject: str) -> Response:
    """On the IdP's authorize page, click the predefined user ``subject``; the final response."""
    with page.expect_navigation() as navigation:
        page.locator(f'button[name=sub][value="{subject}"]').click()
    return navigation.value


def sign_in(page: Page, stack: RunningStack, subject: str) -> Response:
    """Open the portal's bookmark, expect the IdP's sign-in page, sign in as ``subject``."""
    open_portal(page, stack)
    assert is_authorize_page(page.url, stack), f"expected the IdP's sign-in page, got {page.url}"
    return choose_identity(page, subject)


def cookies(context: BrowserContext) -> dict[str, dict]:
    return {cookie["name"]: cookie for cookie in context.cookies()}


def transaction_cookies(context: BrowserContext) -> dict[str, dict]:
    return {name: cookie for name, cookie in cookies(context).items() if name.startswith(TRANSACTION_PREFIX)}


COLOR_SCHEMES = ("light", "dark")


def accessibility_violations(page: Page) -> dict[str, list[str]]:
    """axe-core's violations on the page as it stands, in light and in dark mode (prefers-color-scheme):
    {scheme: ["rule-id (impact): target, ..."]}, empty lists when there are none. axe runs through the
    DevTools protocol, so the page's own Content-Security-Policy neither blocks it nor has to allow it."""
    from axe_playwright_python.sync_playwright import Axe

    found: dict[str, list[str]] = {}
    for scheme in COLOR_SCHEMES:
        page.emulate_media(color_scheme=scheme)
        results = Axe().run(page).response
        found[scheme] = [f"{v['id']} ({v['impact']}): " + ", ".join(t for n in v["nodes"] for t in n["target"])
                         for v in results["violations"]]
    page.emulate_media(color_scheme=None)
    return found


def assert_accessible(page: Page) -> None:
    found = accessibility_violations(page)
    assert found == {scheme: [] for scheme in COLOR_SCHEMES}, f"{page.url}: {found}"


def assert_portal_page(page: Page, response: Response, status: int) -> None:
    """A portal page: the expected status, served with its CSP, no violation, its stylesheet applied, and no
    accessibility violation axe-core can find, in light or dark mode."""
    assert response.status == status, f"{response.url}: {response.status} (expected {status})"
    policy = response.headers.get("content-security-policy", "")
    assert re.search(r"style-src 'sha256-[A-Za-z0-9+/]+=*'", policy), policy
    assert page.evaluate("window.__cspViolations") == []
    style = page.locator("main").evaluate(
        "m => { const s = getComputedStyle(m); return [s.maxWidth, s.borderTopStyle, s.borderTopWidth]; }"
    )
    # portal.css: main{max-width:40rem; border:1px solid ...}; without it max-width is "none".
    assert style == ["640px", "solid", "1px"], style
    assert_accessible(page)


def screenshot(page: Page, name: str) -> None:
    RESULTS_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS_DIR / name))


def redirect_chain(response: Response) -> list[tuple[str, int]]:
    """(URL, status) of every hop that led to ``response``, oldest first, ``response`` last."""
    hops = [(response.url, response.status)]
    request = response.request.redirected_from
    while request is not None:
        previous = request.response()
        hops.append((request.url, previous.status if previous is not None else 0))
        request = request.redirected_from
    return hops[::-1]


def assert_studio_page(
    page: Page, stack: RunningStack, *, profile: str, domain: str, space: str = "", landing: str = ""
) -> None:
    """The browser is on the simulated Studio page, signed in for exactly this profile, space and landing."""
    assert is_studio_auth(page.url, stack), page.url
    expect(page.locator("#studio-profile")).to_have_text(profile)
    expect(page.locator("#studio-domain")).to_have_text(domain)
    expect(page.locator("#studio-space")).to_have_text(space)
    expect(page.locator("#studio-landing")).to_have_text(landing)
