"""Revoking a person over loopback, as the issue checks it: the demo targets against the simulated SageMaker
(AWS JSON wire protocol), `python -m portal.admin revoke … --apply`, then every launch, deep link and chooser
entry of hers is refused within PORTAL_OWNERSHIP_CACHE_SECONDS, her apps (and no one else's) are deleted, the
tags say who and when; `restore` brings it all back."""

import re
import time
from datetime import UTC, datetime
from html import unescape

import boto3
import pytest
from botocore.stub import Stubber

from local.seed import DEMO_DOMAIN_ID, TEAM_DOMAIN_ID, demo_targets_json
from local.stack import running_stack
from portal.admin import main
from portal.admin_aws import AdminGateway
from portal.revocation import REVOKED_TAG
from tests.flow.test_local_flow import sign_in
from tests.support.http_client import Browser

CACHE_SECONDS = 2
WITHDRAWN = "Access to this Studio has been withdrawn; contact the helpdesk."
# Every way in for alice: both Studios, a private space of hers in each, a shared space, a landing path.
WAYS_IN = ["/?target=demo", "/?target=team", "/?target=demo&space=alice-private&app=JupyterLab",
           "/?target=team&space=alice-team-lab", "/?target=demo&space=team-shared&app=JupyterLab",
           "/?target=demo&app=studio&path=jobs"]


@pytest.fixture(scope="module")
def stack():
    env = {"PORTAL_DOMAIN_ID": None, "PORTAL_TARGETS": demo_targets_json(),
           "PORTAL_OWNERSHIP_CACHE_SECONDS": str(CACHE_SECONDS)}
    with running_stack(env_overrides=env) as running:
        yield running


@pytest.fixture
def sim(stack):
    stack.sim.reset()
    yield stack.sim
    stack.sim.deny_presign_tag = None
    stack.sim.reset()


def tags_of(sim, domain: str, profile: str) -> dict[str, str]:
    (found,) = [p for p in sim.state()["profiles"] if (p["DomainId"], p["UserProfileName"]) == (domain, profile)]
    return {tag["Key"]: tag["Value"] for tag in found["Tags"]}


def apps_of(sim) -> dict[tuple[str, str | None, str | None, str, str], str]:
    return {(a["DomainId"], a.get("UserProfileName"), a.get("SpaceName"), a["AppType"], a["AppName"]): a["Status"]
            for a in sim.state()["apps"]}


def links(html: str) -> list[str]:
    return [unescape(href) for href in re.findall(r'href="([^"]+)"', html)]


def signed_in_and_warm(stack, sim, email: str = "alice@example.com") -> Browser:
    """A browser signed in as `email`, whose launches of both Studios the warm container has cached."""
    browser = Browser()
    sign_in(stack, browser, email)
    for target in ("demo", "team"):
        launched = browser.get(f"{stack.portal_url}/?target={target}")
        assert launched.status == 302, launched.text
        sim.redeem(launched.header("Location"))
    return browser


def refused_everywhere(stack, browser: Browser) -> list[str]:
    """The ways in that were NOT refused with the withdrawn page (empty when all were)."""
    let_in = []
    for way in WAYS_IN:
        reply = browser.get(stack.portal_url + way)
        if reply.status != 403 or WITHDRAWN not in reply.text:
            let_in.append(f"{way}: {reply.status}")
    chooser = browser.get(stack.portal_url + "/")
    if chooser.status != 200 or any("target=" in link for link in links(chooser.text)) or \
            chooser.text.count(WITHDRAWN) != 2:
        let_in.append(f"chooser: {chooser.status} {links(chooser.text)}")
    return let_in


def test_revoke_refuses_every_way_in_within_the_cache_lifetime_and_restore_brings_it_back(stack, sim, capsys):
    # Given alice signed in, her launches cached by the warm container, and everyone's apps running
    alice = signed_in_and_warm(stack, sim)
    apps_before = apps_of(sim)
    tags_before = {domain: tags_of(sim, domain, "alice") for domain in (DEMO_DOMAIN_ID, TEAM_DOMAIN_ID)}

    # When the operator revokes her
    started = datetime.now(UTC).replace(microsecond=0)
    assert main(["revoke", "alice@example.com", "--apply"]) == 0
    revoked_at = time.monotonic()
    finished = datetime.now(UTC)
    printed = capsys.readouterr().out

    # Then the tags say who and when, on each of her profiles, and her owner tag is gone
    for domain in (DEMO_DOMAIN_ID, TEAM_DOMAIN_ID):
        tags = tags_of(sim, domain, "alice")
        assert set(tags) == set(tags_before[domain]) - {"studiouserid"} | {REVOKED_TAG}
        when, who = tags[REVOKED_TAG].split(" ", 1)
        assert who == "alice@example.com"
        assert started <= datetime.strptime(when, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) <= finished
    # Her running apps are deleted, on her profile and in her private spaces; no one else's
    after = apps_of(sim)
    hers = {(DEMO_DOMAIN_ID, "alice", None, "Canvas", "default"), (DEMO_DOMAIN_ID, None, "alice-private",
            "JupyterLab", "default"), (TEAM_DOMAIN_ID, None, "alice-team-lab", "JupyterLab", "default")}
    assert {key for key in hers if after[key] == "Deleted"} == hers
    assert {key: status for key, status in after.items() if key not in hers} == \
        {key: status for key, status in apps_before.items() if key not in hers}
    assert after[(DEMO_DOMAIN_ID, None, "team-shared", "JupyterLab", "default")] == "InService"
    assert after[(DEMO_DOMAIN_ID, None, "bob-code", "CodeEditor", "default")] == "InService"
    assert after[(TEAM_DOMAIN_ID, None, "team-room", "CodeEditor", "default")] == "InService"  # shared, hers
    assert "deleted app JupyterLab default in space alice-private" in printed

    # And within PORTAL_OWNERSHIP_CACHE_SECONDS every launch, deep link and chooser entry of hers is refused
    time.sleep(max(0.0, revoked_at + CACHE_SECONDS + 0.1 - time.monotonic()))
    minted_before = len(sim.minted())
    assert refused_everywhere(stack, alice) == []
    assert sim.minted()[minted_before:] == []  # not one URL
    # A new sign-in changes nothing
    fresh = Browser()
    sign_in(stack, fresh, "alice@example.com")
    assert refused_everywhere(stack, fresh) == []
    # Bob is untouched
    bob = Browser()
    sign_in(stack, bob, "bob@example.com")
    assert sim.redeem(bob.get(stack.portal_url + "/").header("Location")).profile == "bob"

    # When the operator restores her
    assert main(["restore", "alice@example.com", "--apply"]) == 0
    # Then her tags are as they were, and every way in opens Studio again (the refusals were never cached)
    assert {domain: tags_of(sim, domain, "alice") for domain in (DEMO_DOMAIN_ID, TEAM_DOMAIN_ID)} == tags_before
    for way in WAYS_IN:
        reply = alice.get(stack.portal_url + way)
        assert reply.status == 302, (way, reply.status)
        assert sim.redeem(reply.header("Location")).profile == "alice"
    chooser = alice.get(stack.portal_url + "/")
    assert f"{stack.portal_url}/?target=demo" in links(chooser.text) and WITHDRAWN not in chooser.text


def test_with_the_iam_deny_a_warm_container_refuses_at_once_and_her_open_studio_stops(stack, sim):
    # Given the deployed roles' Deny on studioportal:revoked (the simulator stands in for IAM), and alice with
    # Studio open in her browser, through the portal
    sim.deny_presign_tag = REVOKED_TAG
    alice = Browser()
    sign_in(stack, alice, "alice@example.com")
    studio = alice.get(alice.get(f"{stack.portal_url}/?target=demo").header("Location"))
    assert studio.status == 200 and alice.get(f"{stack.sim_url}/studio/app").status == 200
    minted_before = len(sim.minted())
    # When she is revoked, and she clicks again at once, well inside the ownership cache's lifetime
    assert main(["revoke", "alice@example.com", "--apply"]) == 0
    refused = alice.get(stack.portal_url + "/?target=demo")
    # Then the presign is denied, the portal looks again and shows the withdrawn page, and no URL exists
    assert refused.status == 403 and WITHDRAWN in refused.text
    assert sim.minted()[minted_before:] == []
    # And her open Studio session stops at its next request
    assert alice.get(f"{stack.sim_url}/studio/app").status == 403


def test_dry_run_reads_only_and_says_what_it_would_do(stack, sim, capsys):
    sim.clear_calls()
    assert main(["revoke", "alice@example.com"]) == 0
    out = capsys.readouterr().out
    assert "would tag studioportal:revoked=" in out and "would delete app Canvas default on the profile" in out
    assert "dry run: nothing changed" in out
    written = {"AddTags", "DeleteTags", "DeleteApp"} & {call.operation for call in sim.calls}
    assert written == set() and "studiouserid" in tags_of(sim, DEMO_DOMAIN_ID, "alice")


def test_scan_finds_a_profile_under_another_name_and_leaves_others_alone(stack, sim, capsys, tmp_path):
    # Given a second profile of alice's that her identity does not map to, and one someone else owns
    sim.add_profile(DEMO_DOMAIN_ID, "ml-alice", tags={"studiouserid": "alice@example.com"})
    sim.add_profile(DEMO_DOMAIN_ID, "ml-alice2", tags={"studiouserid": "alice@example.co"})
    # When revoking by the mapped name, then with --scan
    targets = tmp_path / "targets.json"
    targets.write_text(stack.env["PORTAL_TARGETS"])
    assert main(["--targets", str(targets), "revoke", "alice@example.com", "--target", "demo",
                 "--apply"]) == 0
    assert "studiouserid" in tags_of(sim, DEMO_DOMAIN_ID, "ml-alice")
    assert main(["revoke", "alice@example.com", "--scan", "--target", "demo", "--apply"]) == 0
    # Then only her profiles carry the record
    assert REVOKED_TAG in tags_of(sim, DEMO_DOMAIN_ID, "ml-alice")
    assert tags_of(sim, DEMO_DOMAIN_ID, "ml-alice2") == {"studiouserid": "alice@example.co"}
    assert REVOKED_TAG not in tags_of(sim, DEMO_DOMAIN_ID, "bob")
    # And who --scan shows both, revoked, with no running app left
    capsys.readouterr()
    assert main(["who", "alice@example.com", "--scan", "--target", "demo"]) == 0
    shown = capsys.readouterr().out
    assert "profile ml-alice\n" in shown and "profile alice\n" in shown and "ml-alice2" not in shown
    assert shown.count("REVOKED at ") == 2 and "running:" not in shown


def test_a_failed_step_is_reported_and_exits_non_zero(stack, sim, capsys):
    sim.inject("DeleteApp", "AccessDeniedException", times=10)
    assert main(["revoke", "alice@example.com", "--target", "demo", "--apply"]) == 1
    out = capsys.readouterr()
    assert "FAILED: DeleteApp app Canvas default on the profile" in out.out
    assert "some steps FAILED" in out.err
    # The tags were still changed: the Deny holds whatever else failed
    assert REVOKED_TAG in tags_of(sim, DEMO_DOMAIN_ID, "alice")
    # Running the same command again finishes the job
    sim.clear_faults()
    assert main(["revoke", "alice@example.com", "--target", "demo", "--apply"]) == 0
    assert "already revoked" in capsys.readouterr().out



def test_with_a_user_pool_the_cognito_user_is_signed_out_disabled_and_enabled_again(stack, sim, capsys):
    # Given the Cognito user pool (stubbed: no Cognito locally) and the simulated SageMaker
    cognito = boto3.session.Session().client("cognito-idp", region_name="us-east-1")
    gateway = AdminGateway(clients={("cognito-idp", "us-east-1"): cognito})
    pool = "us-east-1_DemoPool1"
    user = {"UserPoolId": pool, "Username": "CorporateIdP_alice"}
    with Stubber(cognito) as stubber:
        stubber.add_response("list_users", {"Users": [{"Username": "CorporateIdP_alice", "Attributes": [
            {"Name": "email", "Value": "alice@example.com"}]}]},
            {"UserPoolId": pool, "Filter": 'email = "alice@example.com"'})
        stubber.add_response("admin_user_global_sign_out", {}, user)
        stubber.add_response("admin_disable_user", {}, user)
        # When revoking with --user-pool-id
        assert main(["revoke", "alice@example.com", "--user-pool-id", pool, "--apply"], gateway=gateway) == 0
        # Then SageMaker and Cognito were both done
        assert REVOKED_TAG in tags_of(sim, DEMO_DOMAIN_ID, "alice")
        stubber.assert_no_pending_responses()
        stubber.add_response("admin_enable_user", {}, user)
        assert main(["restore", "alice@example.com", "--user-pool-id", pool, "--cognito-username",
                     "CorporateIdP_alice", "--apply"], gateway=gateway) == 0
        stubber.assert_no_pending_responses()
    out = capsys.readouterr().out
    assert "disable (no new sign-in): user CorporateIdP_alice" in out and "enable: user CorporateIdP_alice" in out
    assert "studiouserid" in tags_of(sim, DEMO_DOMAIN_ID, "alice")
