"""axe-core on every page the portal renders, in light and dark mode: each template, rendered by the portal's own
Pages with the context its page is given, served at a portal URL with the portal's security headers, in real
Chromium. (Pages reached through real flows are checked too: flows.assert_portal_page runs axe as well.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from local.stack import RunningStack
from portal.i18n import N_
from portal.pages import helpdesk_link, security_headers, shared
from tests.e2e.flows import COLOR_SCHEMES, Journal, accessibility_violations, assert_accessible

pytestmark = pytest.mark.e2e

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
ENTRIES = [
    {"id": state, "label": f"Studio {number}", "profile": "alice", "state": state, "status": status,
     "link": f"/?target={state}" if state in ("open", "create", "preparing", "unknown") else None,
     "spaces": [{"name": "team-room", "shared": True, "app_type": "JupyterLab", "link": "/?target=open&space=team-room"},
                {"name": "alice-lab", "shared": False, "app_type": None, "link": "/?target=open&space=alice-lab"}]
     if state == "open" else [], "spaces_unavailable": state == "unknown"}
    for number, (state, status) in enumerate([("open", "InService"), ("create", None), ("missing", None),
                                              ("preparing", None), ("not_ready", "Pending"), ("failed", "Failed"),
                                              ("revoked", None), ("not_yours", None), ("unknown", None)])
]
# Every page with the values its route or error gives it; several variants where a page has them.
PAGES: dict[str, list[dict[str, Any]]] = {
    "chooser.html": [{"identity": "alice@example.com", "entries": ENTRIES}],
    "error_bad_request.html": [{"message": "The link's target is not a valid target id."}],
    "error_domain.html": [{"problem": N_("The portal is pointed at a SageMaker Studio domain that does not use IAM "
                                         "authentication, which the portal needs.")}, {}],
    "error_identity.html": [{"message": "The sign-in did not carry a verified e-mail address."}],
    "error_misconfigured.html": [{}],
    "error_no_profile.html": [{"identity": "carol@example.com", "profile": "carol", "target_label": "Demo Studio"}],
    "error_not_allowed.html": [{"identity": "bob@example.com", "target_label": "ML team Studio"},
                               {"identity": "alice@example.com", "space": "bob-code", "target_label": "Demo"}],
    "error_not_provisioned.html": [{"identity": "eve@other.example", "profile": "eve", "target_label": "Team",
                                    "email_domains": ("example.com",)}],
    "error_not_ready.html": [{"profile": "pat", "profile_status": "Pending"},
                             {"profile": "pat", "profile_status": "Failed"},
                             {"profile": "pat", "profile_status": "Pending", "stuck": True}],
    "error_not_yours.html": [{"identity": "john.doe@example.com", "profile": "john-doe", "domain_id": "d-demo",
                              "owner_tag": "studiouserid", "provisions": True}],
    "error_refused.html": [{}],
    "error_revoked.html": [{"identity": "alice@example.com", "profile": "alice", "target_label": "Demo"}],
    "error_signin.html": [{"message": "The sign-in response was incomplete."}, {"cancelled": True}],
    "error_unavailable.html": [{"message": "The sign-in service is not answering."}],
    "not_found.html": [{}],
    # The script checks /status after `check_seconds`: long enough here that it never moves on during the check.
    "preparing.html": [{"profile": "carol", "target_label": "ML team Studio", "status_url": "/status?target=team",
                        "check_seconds": 3600}],
    "signed_out.html": [{}],
}
CASES = [(name, index) for name, variants in PAGES.items() for index in range(len(variants))]


def serve(page: Page, stack: RunningStack, html: str, path: str = "/__a11y") -> None:
    def fulfill(route: Route) -> None:
        route.fulfill(status=200, body=html, headers={**security_headers(), "Content-Type": "text/html; charset=utf-8"})

    page.route(f"{stack.portal_url}{path}", fulfill)
    page.goto(f"{stack.portal_url}{path}")


def render(stack: RunningStack, name: str, context: dict[str, Any], **overrides: Any) -> str:
    base = stack.portal_url
    values = {"base_url": base, "request_id": "8e4e8d9e-431e-44e0-8eba-b49f69a97e22", "portal_title": "SageMaker Studio",
              "helpdesk": helpdesk_link("mailto:ml-help@example.com"), "retry_url": f"{base}/?target=demo",
              "address": None, **context, **overrides}
    for entry in values.get("entries", []):
        entry["link"] = entry["link"] and base + entry["link"]
    return shared().render(name, "en", **values)


def test_every_page_template_is_checked():
    rendered = {path.name for path in TEMPLATES.glob("*.html")} - {"base.html"}
    assert rendered == set(PAGES), "add the new page to PAGES, with the context its route gives it"


@pytest.mark.parametrize(("name", "variant"), CASES, ids=[f"{name}-{index}" for name, index in CASES])
def test_every_page_has_no_accessibility_violation_in_light_or_dark_mode(
    page: Page, journal: Journal, stack: RunningStack, name: str, variant: int
):
    serve(page, stack, render(stack, name, PAGES[name][variant]))

    expect(page.locator("h1")).to_have_count(1)
    assert_accessible(page)
    assert page.evaluate("window.__cspViolations") == []


def test_a_page_with_a_helpdesk_phone_number_and_another_title_is_accessible(page: Page, stack: RunningStack):
    html = render(stack, "not_found.html", {}, portal_title="Acme ML", helpdesk=helpdesk_link("+1 555 010 2030"))
    serve(page, stack, html)
    expect(page.get_by_role("link", name="+1 555 010 2030")).to_have_attribute("href", "tel:+15550102030")
    assert_accessible(page)


def test_the_check_finds_what_it_is_for(page: Page, stack: RunningStack):
    """The check could pass vacuously; a page with an image link that has no text must fail it in both modes."""
    html = render(stack, "not_found.html", {}).replace("</main>", '<p><a href="/x"><img src="data:,"></a></p></main>')
    serve(page, stack, html, "/__a11y-broken")
    found = accessibility_violations(page)
    for scheme in COLOR_SCHEMES:
        rules = {violation.split(" ", 1)[0] for violation in found[scheme]}
        assert {"image-alt", "link-name"} <= rules, found


def test_dark_mode_is_really_applied_while_axe_checks(page: Page, stack: RunningStack):
    serve(page, stack, render(stack, "signed_out.html", {}))
    backgrounds = {}
    for scheme in COLOR_SCHEMES:
        page.emulate_media(color_scheme=scheme)
        backgrounds[scheme] = page.locator("body").evaluate("b => getComputedStyle(b).backgroundColor")
    # portal.css: --bg #f6f8fa in light mode, #0d1117 under prefers-color-scheme: dark
    assert backgrounds == {"light": "rgb(246, 248, 250)", "dark": "rgb(13, 17, 23)"}, backgrounds
