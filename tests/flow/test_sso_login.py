"""GET /login (OIDC Core §4) over loopback with the real local OIDC provider: a tile's sign-in lands in Studio
where its target link points, two portal requests after the IdP; a foreign issuer and foreign links go nowhere."""

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.support.http_client import Browser


def login(stack, browser, **params):
    return browser.request("GET", f"{stack.portal_url}/login?{urlencode(params)}")


def through_the_idp(stack, browser, authorize_url, email="alice@example.com"):
    assert authorize_url.startswith(stack.idp_url)
    to_callback = browser.request("POST", authorize_url, headers=[("Content-Type", "application/x-www-form-urlencoded")],
                                  body=f"sub={email}")
    assert to_callback.status == 302, to_callback.text
    return browser.request("GET", to_callback.header("Location"))


def test_a_tile_sign_in_lands_in_studio_at_its_target_link(stack, sim):
    browser = Browser()
    target = f"{stack.portal_url}/?app=JupyterLab&path=lab/tree/onboarding.ipynb"
    started = login(stack, browser, iss=stack.idp_url, login_hint="alice@example.com", target_link_uri=target)
    assert started.status == 302
    authorize = started.header("Location")
    assert parse_qs(urlsplit(authorize).query)["login_hint"] == ["alice@example.com"]
    landed = through_the_idp(stack, browser, authorize)
    # The callback's own answer is the launch of the target link
    assert landed.status == 302 and sim.redeem(landed.header("Location")).profile == "alice"
    assert sim.calls_to("CreatePresignedDomainUrl")[-1]["LandingUri"] == "app:JupyterLab:lab/tree/onboarding.ipynb"
    # Signed in now: the next tile click goes straight to Studio, no IdP
    again = login(stack, browser, iss=stack.idp_url, target_link_uri=target)
    assert again.status == 302 and again.header("Location").startswith(stack.sim_url + "/")


@pytest.mark.parametrize("issuer", ["https://evil.example", "http://127.0.0.1:1", ""])
def test_a_foreign_issuer_gets_a_400_page_and_no_sign_in(stack, sim, issuer):
    browser = Browser()
    response = login(stack, browser, iss=issuer, target_link_uri=stack.portal_url + "/")
    assert response.status == 400 and "That link doesn" in response.text
    assert response.header("Location") is None and not any(name.startswith("__Host-portal-signin-")
                                                           for name in browser.cookies)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "javascript:alert(1)",
                                    "http://127.0.0.2/?app=JupyterLab"])
def test_a_foreign_target_link_returns_to_the_portal_front_page(stack, sim, target):
    browser = Browser()
    started = login(stack, browser, iss=stack.idp_url, target_link_uri=target)
    landed = through_the_idp(stack, browser, started.header("Location"))
    # `/`, which launches: Studio, with no landing path of the hostile link's
    assert landed.status == 302 and landed.header("Location").startswith(stack.sim_url + "/")
    assert "LandingUri" not in sim.calls_to("CreatePresignedDomainUrl")[-1]
