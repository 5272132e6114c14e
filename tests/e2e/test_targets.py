"""Several targets (issue 4) in Chromium: the chooser and its keyboard use, the direct launch for one target,
a deep link carried across sign-in, a refused deep link, and first-visit provisioning through the
self-refreshing "preparing" page. The same scenarios as tests/flow/test_targets_flow.py, seen by a browser."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Response, expect

from local.sagemaker_sim import SageMakerSim
from local.stack import RunningStack, running_stack
from tests.e2e.flows import (
    DEMO_DOMAIN,
    Journal,
    assert_portal_page,
    assert_studio_page,
    choose_identity,
    is_authorize_page,
    is_studio_auth,
    open_portal,
    origin,
    redirect_chain,
    screenshot,
    sign_in,
)

pytestmark = pytest.mark.e2e

TEAM_DOMAIN = "d-team0domain2"
ROLE = "arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-ExecutionRole-team"
TARGETS = [
    {"id": "demo", "label": "Demo Studio", "domain_id": DEMO_DOMAIN},
    {
        "id": "team",
        "label": "Team Studio",
        "domain_id": TEAM_DOMAIN,
        "groups": ["ml-team"],
        "provision": {"execution_role_arn": ROLE, "email_domains": ["example.com"], "tags": {"cost-center": "ml"}},
    },
]
USERS = [
    {
        "sub": "alice@example.com",
        "claims": {"email": "alice@example.com", "email_verified": True, "cognito:groups": ["ml-team", "unrelated"]},
    },
    {"sub": "bob@example.com", "claims": {"email": "bob@example.com", "email_verified": True}},
    {
        "sub": "carol@example.com",
        "claims": {"email": "carol@example.com", "email_verified": True, "cognito:groups": "ml-team"},
    },
]
# How long a profile made by CreateUserProfile stays Pending; the provisioning test moves the simulator's
# clock past it instead of sleeping.
PENDING_SECONDS = 120
PROVISIONED_WITHIN_MS = 20_000
CHECK_SECONDS = 3  # how often the preparing page's script asks /status (portal.routes.PREPARING_CHECK_SECONDS)


@pytest.fixture(scope="module")
def stack() -> Iterator[RunningStack]:
    overrides = {"PORTAL_DOMAIN_ID": None, "PORTAL_TARGETS": json.dumps(TARGETS)}
    with running_stack(users=USERS, env_overrides=overrides) as running:
        yield running


@pytest.fixture
def sim(stack: RunningStack) -> Iterator[SageMakerSim]:
    """The demo seed (alice-private, team-shared, bob-code in the demo domain) plus a team domain where
    alice owns a profile, a private space and a shared one, and someone else (dave) a private space."""
    sim = stack.sim
    assert sim is not None
    saved_pending = sim.pending_seconds
    sim.reset()
    sim.pending_seconds = PENDING_SECONDS
    sim.add_domain(TEAM_DOMAIN, name="team-studio")
    sim.add_profile(TEAM_DOMAIN, "alice", tags={"studiouserid": "alice@example.com"})
    sim.add_space(TEAM_DOMAIN, "alice-team-lab", owner="alice", sharing="Private", app_type="JupyterLab")
    sim.add_space(TEAM_DOMAIN, "team-room", owner="alice", sharing="Shared", app_type="CodeEditor")
    sim.add_space(TEAM_DOMAIN, "dave-notes", owner="dave", sharing="Private", app_type="JupyterLab")
    yield sim
    sim.pending_seconds = saved_pending
    sim.reset()


def spaces_listed_under(page: Page, target: str) -> list[tuple[str, str]]:
    """(space name, href) of the space links in the chooser entry of ``target``, in page order."""
    entry = page.locator("#targets > li").filter(has=page.locator(f'a.target[data-target="{target}"]'))
    expect(entry).to_have_count(1)
    pairs = entry.locator("a.space").evaluate_all("links => links.map(a => [a.dataset.space, a.href])")
    return [tuple(pair) for pair in pairs]


def focused_link(page: Page) -> dict[str, str] | None:
    return page.evaluate(
        """() => {
            const a = document.activeElement;
            if (!a || a.tagName !== "A") return null;
            const s = getComputedStyle(a);
            return {text: a.textContent.trim(), href: a.href, outline: `${s.outlineStyle} ${s.outlineWidth}`};
        }"""
    )


def test_chooser_lists_targets_and_spaces_and_works_from_the_keyboard(
    page: Page, journal: Journal, stack: RunningStack, sim: SageMakerSim
):
    response = sign_in(page, stack, "alice@example.com")

    # Signed in from the bookmark, alice (in two targets) stays on the portal's chooser.
    assert_portal_page(page, response, 200)
    assert page.url == f"{stack.portal_url}/", page.url
    assert response.headers.get("cache-control") == "no-store"
    expect(page.locator("h1")).to_have_text("Choose a Studio")
    expect(page.locator("main p strong").first).to_have_text("alice@example.com")
    base = stack.portal_url
    targets = page.locator("a.target")
    expect(targets).to_have_text(["Demo Studio", "Team Studio"])
    assert targets.evaluate_all("links => links.map(a => a.href)") == [f"{base}/?target=demo", f"{base}/?target=team"]
    # Under each target: her private spaces and the shared ones, each a deep link; never another's private space.
    assert spaces_listed_under(page, "demo") == [
        ("alice-private", f"{base}/?target=demo&space=alice-private&app=JupyterLab"),
        ("team-shared", f"{base}/?target=demo&space=team-shared&app=JupyterLab"),
    ]
    assert spaces_listed_under(page, "team") == [
        ("alice-team-lab", f"{base}/?target=team&space=alice-team-lab&app=JupyterLab"),
        ("team-room", f"{base}/?target=team&space=team-room&app=CodeEditor"),
    ]
    expect(page.locator("main")).not_to_contain_text("bob-code")
    expect(page.locator("main")).not_to_contain_text("dave-notes")
    screenshot(page, "e2e-chooser.png")

    # Keyboard: Tab visits every link in reading order, each with the visible focus ring of portal.css.
    expected = ["Demo Studio", "alice-private", "team-shared", "Team Studio", "alice-team-lab", "team-room", "Sign out"]
    visited = []
    for _ in expected:
        page.keyboard.press("Tab")
        focused = focused_link(page)
        assert focused is not None, f"Tab left the links after {visited}"
        assert focused["outline"] == "solid 3px", focused
        visited.append(focused["text"])
    assert visited == expected
    page.keyboard.press("Shift+Tab")
    assert focused_link(page)["text"] == "team-room"
    sim.clear_calls()

    # Enter on a space link launches that space.
    with page.expect_navigation() as navigation:
        page.keyboard.press("Enter")

    assert navigation.value.status == 200
    assert_studio_page(page, stack, profile="alice", domain=TEAM_DOMAIN, space="team-room", landing="app:CodeEditor:")
    (presign,) = sim.calls_to("CreatePresignedDomainUrl")
    assert (presign["DomainId"], presign["UserProfileName"]) == (TEAM_DOMAIN, "alice")
    assert presign["SpaceName"] == "team-room"
    assert presign["LandingUri"] == "app:CodeEditor:"
    portal_requests = [url for url in journal.requests if url.startswith(base)]
    assert portal_requests[-1] == f"{base}/?target=team&space=team-room&app=CodeEditor"


def test_user_allowed_one_target_goes_straight_to_studio(page: Page, stack: RunningStack, sim: SageMakerSim):
    sim.clear_calls()

    response = sign_in(page, stack, "bob@example.com")

    assert response.status == 200
    assert_studio_page(page, stack, profile="bob", domain=DEMO_DOMAIN)
    hops = redirect_chain(response)
    # The callback itself answered with the redirect to Studio: no chooser page and no `/` on the way.
    portal_hops = [(url, status) for url, status in hops if origin(url) == stack.portal_url]
    assert urlsplit(portal_hops[-1][0]).path == "/callback" and portal_hops[-1][1] == 302, hops
    assert all(status == 302 for _, status in portal_hops), hops
    (presign,) = sim.calls_to("CreatePresignedDomainUrl")
    assert (presign["DomainId"], presign["UserProfileName"]) == (DEMO_DOMAIN, "bob")
    assert "SpaceName" not in presign and "LandingUri" not in presign


def test_deep_link_is_carried_across_sign_in(page: Page, journal: Journal, stack: RunningStack, sim: SageMakerSim):
    deep = "/?target=team&space=alice-team-lab&app=JupyterLab&path=lab/tree/x.ipynb"
    sim.clear_calls()

    open_portal(page, stack, deep)
    assert is_authorize_page(page.url, stack), page.url
    response = choose_identity(page, "alice@example.com")

    assert response.status == 200
    assert_studio_page(
        page,
        stack,
        profile="alice",
        domain=TEAM_DOMAIN,
        space="alice-team-lab",
        landing="app:JupyterLab:lab/tree/x.ipynb",
    )
    # The callback launched the very same link itself: straight from /callback into Studio.
    hops = redirect_chain(response)
    callback = next(i for i, (url, _) in enumerate(hops) if urlsplit(url).path == "/callback")
    assert is_studio_auth(hops[callback + 1][0], stack), hops
    (presign,) = sim.calls_to("CreatePresignedDomainUrl")
    assert (presign["DomainId"], presign["UserProfileName"]) == (TEAM_DOMAIN, "alice")
    assert presign["SpaceName"] == "alice-team-lab"
    assert presign["LandingUri"] == "app:JupyterLab:lab/tree/x.ipynb"
    assert [url for url in journal.requests if is_studio_auth(url, stack)] == [page.url]


@pytest.mark.parametrize(
    ("signed_in_first", "link", "space", "label"),
    [
        (False, "/?target=demo&space=bob-code&app=CodeEditor", "bob-code", "Demo Studio"),
        (True, "/?target=team&space=dave-notes", "dave-notes", "Team Studio"),
    ],
    ids=["across-sign-in", "signed-in"],
)
def test_deep_link_to_someone_elses_private_space_is_refused(
    page: Page,
    journal: Journal,
    stack: RunningStack,
    sim: SageMakerSim,
    signed_in_first: bool,
    link: str,
    space: str,
    label: str,
):
    if signed_in_first:
        sign_in(page, stack, "alice@example.com")
        expect(page.locator("h1")).to_have_text("Choose a Studio")
    sim.clear_calls()

    response = open_portal(page, stack, link)
    if not signed_in_first:
        assert is_authorize_page(page.url, stack), page.url
        response = choose_identity(page, "alice@example.com")

    assert page.url == stack.portal_url + link, page.url
    assert_portal_page(page, response, 403)
    expect(page.locator("h1")).to_have_text("This isn't available to you")
    expect(page.locator("main p").first).to_contain_text(f"The space {space} in {label} is private to someone else")
    expect(page.locator("main p code").first).to_have_text(space)
    expect(page.get_by_role("link", name="Go to the portal")).to_have_attribute("href", f"{stack.portal_url}/")
    expect(page.get_by_role("link", name="Sign out")).to_have_attribute("href", f"{stack.portal_url}/logout")
    assert sim.calls_to("CreatePresignedDomainUrl") == []
    assert not [url for url in journal.requests if is_studio_auth(url, stack)]
    assert not [url for url in journal.requests if origin(url) == origin(str(stack.sim_url))]
    if not signed_in_first:
        screenshot(page, "e2e-403-private-space.png")


def test_first_visit_provisions_the_profile_and_the_preparing_page_opens_studio_by_itself(
    page: Page, journal: Journal, stack: RunningStack, sim: SageMakerSim
):
    base = stack.portal_url
    status_url = f"{base}/status?target=team"
    navigations: list[tuple[str, int]] = []

    def record(response: Response) -> None:
        if response.request.is_navigation_request() and response.frame == page.main_frame:
            navigations.append((response.url, response.status))

    page.on("response", record)
    sign_in(page, stack, "carol@example.com")
    expect(page.locator("h1")).to_have_text("Choose a Studio")  # carol is in both targets
    sim.clear_calls()

    # She opens the team Studio, where she has no profile yet.
    with page.expect_navigation() as navigation:
        page.locator('a.target[data-target="team"]').click()

    assert_portal_page(page, navigation.value, 202)
    expect(page.locator("h1")).to_have_text("Preparing your Studio")
    expect(page.locator("main")).to_contain_text("carol")
    assert page.locator('meta[http-equiv="refresh"]').count() == 0
    status = page.get_by_role("status")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(page.get_by_role("link", name="Check now")).to_have_attribute("href", status_url)
    expect(page.get_by_role("link", name="Check now")).to_have_attribute("data-every", str(CHECK_SECONDS))
    (created,) = sim.calls_to("CreateUserProfile")
    assert (created["DomainId"], created["UserProfileName"]) == (TEAM_DOMAIN, "carol")
    tags = {tag["Key"]: tag["Value"] for tag in created["Tags"]}
    assert tags == {"studiouserid": "carol@example.com", "cost-center": "ml"}
    assert created["UserSettings"]["ExecutionRole"] == ROLE
    screenshot(page, "e2e-202-preparing.png")

    # The page's script asks /status in the background; still Pending, the page stays and its live status
    # says so (no reload, so a screen reader hears the update).
    expect(status).to_have_text(re.compile("Still being set up"), timeout=PROVISIONED_WITHIN_MS)
    assert page.url == f"{base}/?target=team"
    assert page.evaluate("window.__cspViolations") == []

    # Once the profile is InService, the next check goes on to Studio: no click from here on.
    sim.advance_clock(PENDING_SECONDS)
    page.wait_for_url(lambda url: is_studio_auth(url, stack), timeout=PROVISIONED_WITHIN_MS)

    assert_studio_page(page, stack, profile="carol", domain=TEAM_DOMAIN)
    start = navigations.index((f"{base}/?target=team", 202))
    assert navigations[start:] == [
        (f"{base}/?target=team", 202),
        (status_url, 302),
        (f"{base}/?target=team", 302),
        (page.url, 200),
    ], navigations
    assert len(sim.calls_to("CreateUserProfile")) == 1  # the polls created nothing more
    (presign,) = sim.calls_to("CreatePresignedDomainUrl")
    assert (presign["DomainId"], presign["UserProfileName"]) == (TEAM_DOMAIN, "carol")
    assert [url for url in journal.requests if is_studio_auth(url, stack)] == [page.url]
