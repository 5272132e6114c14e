"""Several targets over loopback: chooser, deep links (the exact SpaceName and LandingUri sent), links to
what the user may not use, deep links across sign-in, open-redirect attempts, and first-visit provisioning."""

import json
import re
from html import unescape

import pytest

from local.stack import running_stack
from tests.flow.test_local_flow import sign_in
from tests.support.http_client import Browser

TEAM_DOMAIN = "d-team0domain2"
ROLE = "arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-ExecutionRole-team"
TARGETS = [
    {"id": "demo", "label": "Demo Studio", "domain_id": "d-demo0portal01"},
    {"id": "team", "label": "Team Studio", "domain_id": TEAM_DOMAIN, "groups": ["ml-team"],
     "provision": {"execution_role_arn": ROLE, "email_domains": ["example.com"], "tags": {"cost-center": "ml"}}},
]
USERS = [
    {"sub": "alice@example.com", "claims": {"email": "alice@example.com", "email_verified": True,
                                            "cognito:groups": ["ml-team", "unrelated"]}},
    {"sub": "bob@example.com", "claims": {"email": "bob@example.com", "email_verified": True}},
    {"sub": "carol@example.com", "claims": {"email": "carol@example.com", "email_verified": True,
                                            "cognito:groups": "ml-team"}},
]


@pytest.fixture(scope="module")
def stack():
    with running_stack(users=USERS, env_overrides={"PORTAL_DOMAIN_ID": None,
                                                   "PORTAL_TARGETS": json.dumps(TARGETS)}) as running:
        yield running


@pytest.fixture
def sim(stack):
    stack.sim.reset()
    stack.sim.pending_seconds = 4
    stack.sim.add_domain(TEAM_DOMAIN, name="team-studio")
    stack.sim.add_profile(TEAM_DOMAIN, "alice", tags={"studiouserid": "alice@example.com"})
    stack.sim.add_space(TEAM_DOMAIN, "alice-team-lab", owner="alice", sharing="Private", app_type="JupyterLab")
    stack.sim.add_space(TEAM_DOMAIN, "team-room", owner="alice", sharing="Shared", app_type="CodeEditor")
    yield stack.sim
    stack.sim.reset()


def links(html: str) -> list[str]:
    return [unescape(href) for href in re.findall(r'href="([^"]+)"', html)]


def test_chooser_lists_allowed_targets_with_own_private_and_shared_spaces(stack, sim):
    browser = Browser()
    sign_in(stack, browser, "alice@example.com")
    response = browser.request("GET", stack.portal_url + "/")
    assert response.status == 200 and "Choose a Studio" in response.text
    found = links(response.text)
    base = stack.portal_url
    assert f"{base}/?target=demo" in found and f"{base}/?target=team" in found
    # Her private spaces and shared spaces, each launchable; never bob's private space
    assert f"{base}/?target=demo&space=alice-private&app=JupyterLab" in found
    assert f"{base}/?target=demo&space=team-shared&app=JupyterLab" in found
    assert f"{base}/?target=team&space=team-room&app=CodeEditor" in found
    assert not any("bob-code" in link for link in found)
    assert response.header("Cache-Control") == "no-store"


def test_user_with_one_target_goes_straight_to_studio(stack, sim):
    browser = Browser()
    sign_in(stack, browser, "bob@example.com")
    response = browser.request("GET", stack.portal_url + "/")
    assert response.status == 302 and sim.redeem(response.header("Location")).profile == "bob"


@pytest.mark.parametrize("query, space, landing", [
    ("target=demo&space=team-shared&app=JupyterLab&path=lab/tree/shared.ipynb", "team-shared",
     "app:JupyterLab:lab/tree/shared.ipynb"),
    ("target=demo&space=alice-private", "alice-private", None),
    ("target=demo&app=studio&path=jobs", None, "studio::jobs"),
    ("target=team&space=team-room&app=CodeEditor", "team-room", "app:CodeEditor:"),
])
def test_deep_links_send_the_exact_space_and_landing_uri(stack, sim, query, space, landing):
    browser = Browser()
    sign_in(stack, browser, "alice@example.com")
    sim.clear_calls()
    response = browser.request("GET", f"{stack.portal_url}/?{query}")
    assert response.status == 302
    (presign,) = sim.calls_to("CreatePresignedDomainUrl")
    assert presign.get("SpaceName") == space and presign.get("LandingUri") == landing
    assert presign["UserProfileName"] == "alice"


@pytest.mark.parametrize("query, status", [
    ("target=demo&space=alice-private", 403),   # someone else's private space
    ("target=team", 403),                       # bob is not in ml-team
    ("target=nope", 404),
    ("target=demo&space=no-such-space", 404),
    ("target=demo&app=Notepad", 400),
    ("target=demo&path=../../etc", 400),
])
def test_links_beyond_what_targets_allow_get_no_url(stack, sim, query, status):
    browser = Browser()
    sign_in(stack, browser, "bob@example.com")
    sim.clear_calls()
    response = browser.request("GET", f"{stack.portal_url}/?{query}")
    assert response.status == status
    assert sim.calls_to("CreatePresignedDomainUrl") == []


def test_deep_link_survives_sign_in(stack, sim):
    browser = Browser()
    deep = "/?target=demo&space=team-shared&app=JupyterLab&path=lab/tree/x.ipynb"
    # The callback answers with the deep link's launch itself
    response = sign_in(stack, browser, "alice@example.com", start=deep)
    assert response.status == 302 and response.header("Location").startswith(stack.sim_url + "/")
    presign = sim.calls_to("CreatePresignedDomainUrl")[-1]
    assert presign["LandingUri"] == "app:JupyterLab:lab/tree/x.ipynb" and presign["SpaceName"] == "team-shared"


@pytest.mark.parametrize("start", [
    "//evil.example/", "/\\evil.example/", "/%2F%2Fevil.example", "/?next=https://evil.example",
    "/%0d%0aLocation:%20https://evil.example", "/https:evil.example",
])
def test_return_addresses_never_leave_the_portal(stack, sim, start):
    browser = Browser()
    landed = sign_in(stack, browser, "alice@example.com", start=start) if start.startswith("/?") else None
    if landed is not None:
        # `/?next=...` is a launch of `/`: for alice, the chooser, on the portal itself
        assert landed.status == 200 and landed.header("Location") is None
    # However the address is written, the browser ends on the portal, the IdP or Studio only.
    response = browser.request("GET", stack.portal_url + start)
    location = response.header("Location") or ""
    allowed = (stack.portal_url + "/", stack.idp_url + "/", stack.sim_url + "/")
    assert response.status != 500
    assert location == "" or location.startswith(allowed), location


def test_first_visit_creates_the_profile_and_launches_once_ready(stack, sim):
    # Given carol, in ml-team, with no profile in the team domain
    browser = Browser()
    sign_in(stack, browser, "carol@example.com")
    # When she opens the team Studio
    first = browser.request("GET", stack.portal_url + "/?target=team&app=JupyterLab")
    # Then the portal creates her profile, tagged as hers, and shows the preparing page
    assert first.status == 202 and 'id="preparing-status"' in first.text
    (created,) = sim.calls_to("CreateUserProfile")
    assert created["UserProfileName"] == "carol" and created["DomainId"] == TEAM_DOMAIN
    assert {tag["Key"]: tag["Value"] for tag in created["Tags"]} == {"studiouserid": "carol@example.com",
                                                                     "cost-center": "ml"}
    assert created["UserSettings"]["ExecutionRole"] == ROLE
    status_url = unescape(re.search(r'<a id="check-now" href="([^"]+)"', first.text).group(1))
    assert status_url == stack.portal_url + "/status?target=team&app=JupyterLab"
    # A second click meanwhile creates nothing more
    assert browser.request("GET", stack.portal_url + "/?target=team").status == 202
    assert len(sim.calls_to("CreateUserProfile")) == 1
    # While Pending, the status route keeps answering "preparing"
    assert browser.request("GET", status_url).status == 202
    # Once InService, the status route sends her to the launch link, which opens Studio
    sim.advance_clock(5)
    ready = browser.request("GET", status_url)
    assert ready.status == 302 and ready.header("Location") == stack.portal_url + "/?target=team&app=JupyterLab"
    launched = browser.request("GET", ready.header("Location"))
    assert launched.status == 302 and sim.redeem(launched.header("Location")).profile == "carol"


def _chooser_entries(html: str) -> dict[str, tuple[str, str | None, str]]:
    """target id -> (state, its link or None, what the entry says will happen)."""
    entries = {}
    for item in re.findall(r'<li data-state="[^"]*">.*?</p>', html, re.S):
        state = re.search(r'data-state="([^"]*)"', item).group(1)
        target = re.search(r'data-target="([^"]*)"', item).group(1)
        link = re.search(r'<a class="target" href="([^"]*)"', item)
        says = re.sub(r"\s+", " ", unescape(re.search(r'<p class="state">(.*?)</p>', item, re.S).group(1))).strip()
        entries[target] = (state, unescape(link.group(1)) if link else None, says)
    return entries


def test_the_chooser_says_what_each_target_will_do_and_links_only_where_a_link_works(stack, sim):
    from portal import runtime

    runtime.reset()  # a cold container: earlier tests' launches left ownership cached
    base = stack.portal_url
    # carol: no profile in the demo domain (it never provisions), none yet in the team domain (which does)
    carol = Browser()
    entries = _chooser_entries(sign_in(stack, carol, "carol@example.com").text)
    assert entries["demo"] == ("missing", None, "You have no profile here yet. Ask your IT team to create it.")
    assert entries["team"][:2] == ("create", f"{base}/?target=team") and "creates one" in entries["team"][2]
    assert sim.calls_to("CreateUserProfile") == []  # the chooser looked, and created nothing
    # Her profile being made: "being prepared", still a link (it waits on the preparing page)
    assert carol.request("GET", f"{base}/?target=team").status == 202
    assert _chooser_entries(carol.request("GET", f"{base}/").text)["team"][:2] == ("preparing", f"{base}/?target=team")
    # alice: both open; a failed profile says so and offers no link, and not "not ready yet"
    sim.set_profile_status("d-demo0portal01", "alice", "Failed")
    alice = Browser()
    entries = _chooser_entries(sign_in(stack, alice, "alice@example.com").text)
    assert entries["team"][:2] == ("open", f"{base}/?target=team")
    assert entries["demo"][:2] == ("failed", None) and "(its status is Failed)" in entries["demo"][2]
    assert "not ready" not in entries["demo"][2]
    sim.set_profile_status("d-demo0portal01", "alice", "Pending")
    alice_again = Browser()
    entries = _chooser_entries(sign_in(stack, alice_again, "alice@example.com").text)
    assert entries["demo"][:2] == ("not_ready", None) and "not ready yet" in entries["demo"][2]
