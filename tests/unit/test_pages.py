"""What every page says: its title and heading, the portal's name, the helpdesk, the way back, no meta refresh."""

import base64
import hashlib
import re
from html import unescape
from pathlib import Path

import pytest

from portal import runtime
from portal.pages import helpdesk_link, security_headers
from tests.support.events import header
from tests.support.harness import BASE, DOMAIN, Portal

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
DEEP = "/?target=studio&space=team&app=JupyterLab&path=lab/tree/x.ipynb"


@pytest.fixture
def portal():
    yield Portal(env={"PORTAL_TITLE": "Acme ML", "PORTAL_HELPDESK": "mailto:ml-help@acme.example"})
    runtime.reset()


def title_and_heading(body: str) -> tuple[str, str]:
    title = unescape(re.search(r"<title>(.*?)</title>", body, re.S).group(1))
    heading = unescape(re.sub(r"<[^>]+>", "", re.search(r"<h1[^>]*>(.*?)</h1>", body, re.S).group(1))).strip()
    return title, heading


def links(body: str) -> dict[str, str]:
    return {unescape(re.sub(r"<[^>]+>", "", text)).strip(): unescape(href)
            for href, text in re.findall(r'<a [^>]*href="([^"]*)"[^>]*>(.*?)</a>', body, re.S)}


def assert_page(response, status):
    assert response["statusCode"] == status, response.get("body", "")[:300]
    body = response["body"]
    title, heading = title_and_heading(body)
    assert title == f"{heading} \u2013 Acme ML"
    assert links(body)["ml-help@acme.example"] == "mailto:ml-help@acme.example"
    assert "http-equiv" not in body.lower()
    return body


def _profile(portal, status="InService", owner="alice@example.com"):
    arn = f"arn:aws:sagemaker:us-east-1:123456789012:user-profile/{DOMAIN}/alice"
    portal.stubber.add_response("describe_user_profile", {"UserProfileArn": arn, "Status": status})
    portal.stubber.add_response("list_tags", {"Tags": [{"Key": "studiouserid", "Value": owner}]})


def test_every_error_page_leads_back_to_the_link_that_was_opened(portal):
    portal.sign_in("/status")
    # Throttled at the presign: "Try again" is the same deep link, target, space, app and path included
    portal.stubber.add_response("describe_user_profile", {
        "UserProfileArn": f"arn:aws:sagemaker:us-east-1:123456789012:user-profile/{DOMAIN}/alice",
        "Status": "InService"})
    portal.stubber.add_response("list_tags", {"Tags": [{"Key": "studiouserid", "Value": "alice@example.com"}]})
    portal.stubber.add_response("list_spaces", {"Spaces": [
        {"SpaceName": "team", "SpaceSharingSettingsSummary": {"SharingType": "Shared"}}]})
    for _ in range(3):
        portal.stubber.add_client_error("create_presigned_domain_url", "ThrottlingException", http_status_code=400)
    body = assert_page(portal.get(DEEP), 503)
    assert links(body)["Try again"] == BASE + DEEP


def test_the_not_ready_page_leads_back_to_the_deep_link(portal):
    portal.sign_in("/status")
    _profile(portal, status="Pending")
    body = assert_page(portal.get("/?app=CodeEditor&path=src"), 409)
    assert links(body)["Try again"] == f"{BASE}/?app=CodeEditor&path=src"
    assert "isn't ready yet" in title_and_heading(body)[1]


@pytest.mark.parametrize("status, heading", [
    ("Failed", "Your Studio profile failed to set up"), ("Update_Failed", "Your Studio profile failed to set up"),
    ("Deleting", "Your Studio profile is being deleted"),
])
def test_a_failed_profile_is_not_called_not_ready_yet(portal, status, heading):
    portal.sign_in("/status")
    _profile(portal, status=status)
    body = assert_page(portal.get("/"), 409)
    assert title_and_heading(body)[1] == heading
    assert "not ready yet" not in body and "not in service yet" not in body and "Try again" not in links(body)


def test_sign_in_again_after_a_failed_callback_returns_to_where_the_sign_in_was_headed(portal):
    state, _ = portal.start_sign_in(DEEP)
    portal.idp.next_id_token = portal.idp.sign(portal.idp.claims(nonce="another-nonce"))
    response = portal.get(f"/callback?code=c&state={state}")
    body = assert_page(response, 401)
    assert links(body)["Sign in again"] == BASE + DEEP
    # and the page shows that address instead of the spent callback URL (the script replaces it)
    assert f'data-address="{BASE}/?target=studio&amp;space=team&amp;app=JupyterLab&amp;path=lab/tree/x.ipynb"' in body


def test_cancelled_sign_in_leads_back_to_its_link(portal):
    state, _ = portal.start_sign_in("/?app=studio")
    body = assert_page(portal.get(f"/callback?error=access_denied&state={state}"), 403)
    assert links(body)["Sign in again"] == f"{BASE}/?app=studio"


def test_a_bad_link_leads_to_the_front_page(portal):
    body = assert_page(portal.get("/?target=NOT%20VALID"), 400)
    assert links(body)["Go to the portal"] == f"{BASE}/"


def test_not_found_and_signed_out_pages_name_the_portal_and_the_helpdesk(portal):
    assert_page(portal.get("/nowhere"), 404)
    assert_page(portal.get("/signed-out"), 200)


def test_the_preparing_page_moves_on_by_script_with_a_live_status_and_a_plain_link():
    template = (TEMPLATES / "preparing.html").read_text()
    assert "http-equiv" not in template
    assert 'role="status"' in template and 'aria-live="polite"' in template and 'id="check-now"' in template
    assert not any("http-equiv" in path.read_text().lower() for path in TEMPLATES.glob("*.html"))


def test_the_script_is_allowed_by_its_hash_and_never_by_unsafe_inline():
    policy = security_headers()["Content-Security-Policy"]
    digest = base64.b64encode(hashlib.sha256((TEMPLATES / "portal.js").read_bytes()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


@pytest.mark.parametrize("value, href, text", [
    ("https://help.acme.example/ml", "https://help.acme.example/ml", "https://help.acme.example/ml"),
    ("mailto:help@acme.example", "mailto:help@acme.example", "help@acme.example"),
    ("+1 (555) 010-2030", "tel:+15550102030", "+1 (555) 010-2030"),
    ("Ask in #ml-help on Slack", None, "Ask in #ml-help on Slack"),
    ("javascript:alert(1)", None, "javascript:alert(1)"),
])
def test_helpdesk_is_a_link_only_where_it_is_one(value, href, text):
    assert helpdesk_link(value) == {"href": href, "text": text}
    assert helpdesk_link(None) is None


def test_default_title_is_sagemaker_studio():
    plain = Portal()
    try:
        title, heading = title_and_heading(plain.get("/nowhere")["body"])
        assert title == f"{heading} \u2013 SageMaker Studio"
        assert header(plain.get("/nowhere"), "Content-Type").startswith("text/html")
    finally:
        runtime.reset()


@pytest.mark.parametrize("name", sorted(path.name for path in TEMPLATES.glob("*.html") if path.name != "base.html"))
@pytest.mark.parametrize("context", [{}, {"cancelled": True, "profile_status": "Failed", "stuck": True}],
                         ids=["plain", "variant"])
def test_every_page_has_one_heading_that_its_title_repeats_with_the_portals_name(name, context):
    from portal.pages import shared

    body = shared().render(name, "en", base_url="https://p.example", portal_title="Acme ML", request_id="r",
                           helpdesk=helpdesk_link("Call 555-0100"), retry_url="https://p.example/", address=None,
                           entries=[], **context)
    assert body.count("<h1") == 1
    title, heading = title_and_heading(body)
    assert heading and title == f"{heading} \u2013 Acme ML"
    assert "Call 555-0100" in body
