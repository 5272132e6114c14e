"""``python -m local.dev``: options, modes, the demo targets, banner, the dev configuration end to end over
HTTP, and a real start/stop in a subprocess."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from html import unescape
from pathlib import Path

import pytest

from local import dev, seed
from local.stack import RunningStack, running_stack
from portal.targets import parse_targets
from tests.support.http_client import Browser

ROOT = Path(__file__).resolve().parents[2]


def test_default_ports():
    args = dev.parse_args([], {})
    assert (args.port, args.idp_port, args.sim_port, args.stage_prefix) == (8000, 9400, 8001, "")


def test_ports_from_environment_and_flags():
    environ = {"PORTAL_LOCAL_PORT": "18000", "PORTAL_LOCAL_IDP_PORT": "19400", "PORTAL_LOCAL_STAGE_PREFIX": "/prod"}
    args = dev.parse_args(["--sim-port", "18001"], environ)
    assert (args.port, args.idp_port, args.sim_port, args.stage_prefix) == (18000, 19400, 18001, "/prod")
    assert dev.parse_args(["--port", "0"], environ).port == 0


def test_bad_port_is_refused():
    with pytest.raises(SystemExit):
        dev.parse_args(["--port", "70000"], {})


def test_portal_variables_from_the_environment_win():
    environ = {"PORTAL_DOMAIN_ID": "d-mine", "PORTAL_LOCAL_PORT": "1", "HOME": "/root", "PORTAL_OWNER_TAG": "owner"}
    assert dev.user_overrides(environ) == {"PORTAL_DOMAIN_ID": "d-mine", "PORTAL_OWNER_TAG": "owner"}


def test_real_account_mode_needs_a_domain(capsys):
    assert dev.main([], {"PORTAL_LOCAL_SAGEMAKER": "off"}) == 2
    assert "PORTAL_DOMAIN_ID" in capsys.readouterr().err


# ---- the demo targets -----------------------------------------------------------------------------------


def test_demo_targets_by_default():
    overrides = dev.env_overrides({"HOME": "/root", "PORTAL_LOCAL_PORT": "8010"})
    assert overrides == {"PORTAL_TARGETS": seed.demo_targets_json(), "PORTAL_DOMAIN_ID": None}
    assert json.loads(overrides["PORTAL_TARGETS"]) == seed.DEMO_TARGETS


def test_demo_targets_are_a_valid_portal_configuration():
    demo, team = parse_targets(seed.demo_targets_json(), "email")
    assert (demo.id, demo.domain_id, demo.groups, demo.provision) == ("demo", seed.DEMO_DOMAIN_ID, (), None)
    assert (team.id, team.label, team.domain_id, team.groups) == (
        "team",
        "ML team Studio",
        seed.TEAM_DOMAIN_ID,
        ("ml-team",),
    )
    assert team.provision.execution_role_arn == seed.EXECUTION_ROLE
    assert dict(team.provision.tags) == {"cost-center": "ml-demo"}


def test_demo_users_carry_the_groups_claim_the_portal_reads():
    groups = {user.email: user.claims().get("cognito:groups", []) for user in seed.DEMO_USERS}
    assert "ml-team" in groups["alice@example.com"] and "ml-team" in groups["carol@example.com"]
    assert "ml-team" not in groups["bob@example.com"]


@pytest.mark.parametrize(
    "environ",
    [
        {"PORTAL_DOMAIN_ID": "d-demo0portal01"},
        {"PORTAL_DOMAIN_ID": "d-sso0domain01", "PORTAL_LOCAL_SAGEMAKER": "on"},
    ],
)
def test_a_domain_of_the_users_means_no_demo_targets(environ):
    overrides = dev.env_overrides(environ)
    assert overrides == {"PORTAL_DOMAIN_ID": environ["PORTAL_DOMAIN_ID"]}
    assert not dev.uses_demo_targets(environ)


def test_targets_of_the_users_replace_the_demo_targets_and_the_default_domain():
    mine = json.dumps([{"id": "mine", "domain_id": "d-demo0portal01"}])
    assert dev.env_overrides({"PORTAL_TARGETS": mine}) == {"PORTAL_TARGETS": mine, "PORTAL_DOMAIN_ID": None}


def test_real_account_mode_gets_no_demo_targets():
    environ = {"PORTAL_LOCAL_SAGEMAKER": "off", "PORTAL_DOMAIN_ID": "d-abc123"}
    assert dev.env_overrides(environ) == {"PORTAL_DOMAIN_ID": "d-abc123"}
    assert dev.env_overrides({"PORTAL_LOCAL_SAGEMAKER": "off"}) == {}


def test_an_empty_domain_variable_still_gets_the_demo_targets():
    overrides = dev.env_overrides({"PORTAL_DOMAIN_ID": "", "PORTAL_TARGETS": " "})
    assert overrides == {"PORTAL_TARGETS": seed.demo_targets_json(), "PORTAL_DOMAIN_ID": None}


def test_the_simulator_provisions_quickly_and_denies_revoked_profiles_as_iam_does():
    sim = dev.simulator()
    assert sim.pending_seconds == seed.DEMO_PENDING_SECONDS <= 10
    assert sim.deny_presign_tag == "studioportal:revoked"
    assert seed.TEAM_DOMAIN_ID in [domain["DomainId"] for domain in sim.state()["domains"]]


def test_own_idp_needs_its_client(capsys):
    assert dev.main([], {"PORTAL_OIDC_ISSUER": "https://login.example.com"}) == 2
    assert "PORTAL_OIDC_CLIENT_SECRET" in capsys.readouterr().err


def fake_stack(**kwargs) -> RunningStack:
    values = {
        "portal_url": "http://127.0.0.1:8000",
        "idp_url": "http://127.0.0.1:9400",
        "sim": None,
        "sim_url": "http://127.0.0.1:8001",
        "env": {},
        "adapter": None,
    }
    values.update(kwargs)
    return RunningStack(**values)


def test_banner_for_the_demo_targets():
    text = dev.banner(fake_stack(), local_sagemaker=True, local_idp=True, demo_targets=True)
    assert "Open       http://127.0.0.1:8000/" in text
    for email in ("alice@example.com", "john.doe@example.com", "carol@example.com", "pending.pat@example.com"):
        assert email in text
    # Both targets, who sees the chooser, and who gets a profile made for them
    assert "d-demo0portal01" in text and "d-team0portal02" in text and '"ML team Studio"' in text
    assert "chooser" in line_of(text, "alice@example.com") and "chooser" in line_of(text, "carol@example.com")
    assert "preparing page" in line_of(text, "carol@example.com")
    assert "straight into Studio" in line_of(text, "bob@example.com")
    assert "403" in line_of(text, "john.doe@example.com")
    # Deep links on the portal's own URL, one to a space alice may not open
    assert "http://127.0.0.1:8000/?target=demo&space=team-shared&app=JupyterLab&path=lab/tree/README.ipynb" in text
    assert "http://127.0.0.1:8000/?target=demo&space=bob-code&app=CodeEditor" in text
    # How to get the single-domain set-up
    assert "PORTAL_DOMAIN_ID=d-demo0portal01 make dev" in text and "d-sso0domain01" in text
    # The revoke to try, against this simulator
    assert ("PYTHONPATH=lambda .venv/bin/python -m local.admin --sim http://127.0.0.1:8001 revoke "
            "alice@example.com --apply") in text


def test_banner_deep_links_carry_the_stage_prefix():
    text = dev.banner(
        fake_stack(portal_url="http://127.0.0.1:8000/prod"), local_sagemaker=True, local_idp=True, demo_targets=True
    )
    assert "http://127.0.0.1:8000/prod/?target=demo&space=bob-code&app=CodeEditor" in text


def test_banner_for_the_single_domain():
    text = dev.banner(fake_stack(), local_sagemaker=True, local_idp=True, domain_id="d-demo0portal01")
    assert "(simulated, us-east-1; domain d-demo0portal01)" in text
    assert "straight into Studio" in line_of(text, "alice@example.com")
    assert "chooser" not in text and "?target=" not in text
    assert "d-sso0domain01" in text


@pytest.mark.parametrize("domain_id", [domain["domain_id"] for domain in seed.DOMAINS])
def test_banner_for_each_demo_domain_says_what_each_user_really_gets(domain_id):
    # Given `PORTAL_DOMAIN_ID=<demo domain> make dev`
    text = dev.banner(fake_stack(), local_sagemaker=True, local_idp=True, domain_id=domain_id)
    environ = {"PORTAL_DOMAIN_ID": domain_id}
    with running_stack(env_overrides=dev.env_overrides(environ), sim=dev.simulator()) as stack:
        for user in seed.DEMO_USERS:
            # When each demo user signs in, the callback answers with the launch itself
            said = line_of(text, user.email)
            got = sign_in(stack, Browser(), user.email)
            # Then the banner's line names what happened
            expected = 302 if "straight into Studio" in said else int(re.search(r"\b(\d{3})\b", said).group(1))
            assert got.status == expected, (user.email, said, got.status)
            if expected == 302:
                assert got.header("Location").startswith(stack.sim_url + "/"), said


def test_banner_for_targets_of_the_users():
    text = dev.banner(fake_stack(), local_sagemaker=True, local_idp=True, domain_id=None)
    assert "your PORTAL_TARGETS" in text
    assert "ml-team" in line_of(text, "carol@example.com")


def line_of(text: str, needle: str) -> str:
    (line,) = [line for line in text.splitlines() if line.strip().startswith(needle)]
    return line


def test_banner_for_a_real_account_and_idp():
    stack = fake_stack(idp_url="https://login.example.com", sim_url=None)
    text = dev.banner(stack, local_sagemaker=False, local_idp=False, domain_id="d-abc123")
    assert "your AWS account; domain d-abc123" in text
    assert "register http://127.0.0.1:8000/callback" in text
    assert "alice@example.com" not in text


# ---- the dev configuration over HTTP --------------------------------------------------------------------


@pytest.fixture(scope="module")
def dev_stack():
    """What `make dev` runs, on ephemeral ports: the runner's environment and simulator."""
    with running_stack(env_overrides=dev.env_overrides({}), sim=dev.simulator()) as stack:
        yield stack


@pytest.fixture
def dev_sim(dev_stack):
    dev_stack.sim.reset()
    yield dev_stack.sim
    dev_stack.sim.reset()


def sign_in(stack: RunningStack, browser: Browser, email: str, start: str = "/"):
    """Portal, then the IdP's form for ``email``, then the callback; return the callback's response (for a
    launch, the launch itself)."""
    to_idp = browser.get(stack.portal_url + start)
    assert to_idp.status == 302 and to_idp.header("Location").startswith(stack.idp_url), to_idp.text[:300]
    to_callback = browser.post_form(to_idp.header("Location"), {"sub": email})
    assert to_callback.status == 302, to_callback.text[:300]
    callback = browser.get(to_callback.header("Location"))
    # a page of the portal's, whatever its status: never the adapter's answer to a crashed handler
    assert callback.status != 500 and "Internal server error" not in callback.text, callback.text[:300]
    return callback


def links(html: str) -> list[str]:
    return [unescape(href) for href in re.findall(r'href="([^"]+)"', html)]


def test_dev_alice_gets_the_chooser_with_both_studios_and_her_spaces(dev_stack, dev_sim):
    browser = Browser()
    sign_in(dev_stack, browser, "alice@example.com")
    response = browser.get(dev_stack.portal_url + "/")
    assert response.status == 200, response.text[:300]
    assert "Demo Studio" in response.text and "ML team Studio" in response.text
    base = dev_stack.portal_url
    found = links(response.text)
    assert f"{base}/?target=demo" in found and f"{base}/?target=team" in found
    assert f"{base}/?target=demo&space=alice-private&app=JupyterLab" in found
    assert f"{base}/?target=demo&space=team-shared&app=JupyterLab" in found
    assert f"{base}/?target=team&space=alice-team-lab&app=JupyterLab" in found
    assert f"{base}/?target=team&space=team-room&app=CodeEditor" in found
    assert not any("bob-code" in link for link in found)
    assert dev_sim.calls_to("CreatePresignedDomainUrl") == []


def test_dev_bob_goes_straight_into_studio(dev_stack, dev_sim):
    browser = Browser()
    sign_in(dev_stack, browser, "bob@example.com")
    response = browser.get(dev_stack.portal_url + "/")
    assert response.status == 302 and dev_sim.redeem(response.header("Location")).profile == "bob"
    # Not in ml-team: the team Studio is refused
    assert browser.get(dev_stack.portal_url + "/?target=team").status == 403


@pytest.mark.parametrize("email, status", [("john.doe@example.com", 403), ("pending.pat@example.com", 409)])
def test_dev_one_studio_users_get_their_error_page(dev_stack, dev_sim, email, status):
    browser = Browser()
    sign_in(dev_stack, browser, email)
    assert browser.get(dev_stack.portal_url + "/").status == status
    assert dev_sim.calls_to("CreatePresignedDomainUrl") == []


def test_dev_deep_links_of_the_banner(dev_stack, dev_sim):
    (shared, _), (private, _) = seed.DEMO_LINKS
    browser = Browser()
    # Signed out, the first link survives the sign-in: the callback opens the notebook in the shared space
    opened = sign_in(dev_stack, browser, "alice@example.com", start=f"/?{shared}")
    assert opened.status == 302
    studio = dev_sim.redeem(opened.header("Location"))
    assert (studio.profile, studio.space) == ("alice", "team-shared")
    # The second is bob's private space: alice gets a 403 and no URL
    dev_sim.clear_calls()
    refused = browser.get(f"{dev_stack.portal_url}/?{private}")
    assert refused.status == 403 and dev_sim.calls_to("CreatePresignedDomainUrl") == []
    # The team Studio opens her own profile there
    team = browser.get(f"{dev_stack.portal_url}/?target=team")
    assert team.status == 302
    studio = dev_sim.redeem(team.header("Location"))
    assert (studio.domain, studio.profile) == (seed.TEAM_DOMAIN_ID, "alice")


def test_dev_carol_first_visit_creates_her_profile(dev_stack, dev_sim):
    # Given carol, in ml-team, signed in with no profile in the team domain
    browser = Browser()
    sign_in(dev_stack, browser, "carol@example.com")
    assert browser.get(dev_stack.portal_url + "/").status == 200  # two Studios: the chooser
    # When she opens the ML team Studio
    first = browser.get(dev_stack.portal_url + "/?target=team")
    # Then the portal creates her profile, tagged as hers, and shows the preparing page
    assert first.status == 202 and 'id="preparing-status"' in first.text
    (created,) = dev_sim.calls_to("CreateUserProfile")
    assert (created["DomainId"], created["UserProfileName"]) == (seed.TEAM_DOMAIN_ID, "carol")
    assert {tag["Key"]: tag["Value"] for tag in created["Tags"]} == {
        "studiouserid": "carol@example.com",
        "cost-center": "ml-demo",
    }
    assert created["UserSettings"]["ExecutionRole"] == seed.EXECUTION_ROLE
    # And once the simulator's short Pending is over, the status page sends her into Studio
    status_url = unescape(re.search(r'<a id="check-now" href="([^"]+)"', first.text).group(1))
    dev_sim.advance_clock(seed.DEMO_PENDING_SECONDS)
    ready = browser.get(status_url)
    assert ready.status == 302
    launched = browser.get(ready.header("Location"))
    assert launched.status == 302 and dev_sim.redeem(launched.header("Location")).profile == "carol"


def admin(sim_url: str, *args: str) -> int:
    """The banner's command, run in-process (its environment is restored afterwards)."""
    from local import admin as local_admin

    return local_admin.main(["--sim", sim_url, *args], {})


def test_dev_the_banners_revoke_ends_alices_access_at_once_and_restore_gives_it_back(dev_stack, dev_sim, capsys):
    # Given alice signed in, her launch of the demo Studio cached by the warm container
    browser = Browser()
    sign_in(dev_stack, browser, "alice@example.com")
    assert browser.get(dev_stack.portal_url + "/?target=demo").status == 302
    # When the banner's command runs
    assert admin(dev_stack.sim_url, "revoke", "alice@example.com", "--apply") == 0
    assert "deleted app JupyterLab default in space alice-private" in capsys.readouterr().out
    # Then at once (the simulator denies like the deployed IAM) she gets the withdrawn page; whatever link the
    # chooser still offers from a warm ownership answer (up to PORTAL_OWNERSHIP_CACHE_SECONDS) leads there too
    refused = browser.get(dev_stack.portal_url + "/?target=demo")
    assert refused.status == 403 and "Access to this Studio has been withdrawn" in refused.text
    chooser = browser.get(dev_stack.portal_url + "/")
    for link in [link for link in links(chooser.text) if "target=" in link]:
        assert browser.get(link).status == 403, link
    assert "target=demo" not in chooser.text  # the refused launch dropped its cached answer
    assert admin(dev_stack.sim_url, "who", "alice@example.com") == 0
    assert capsys.readouterr().out.count("REVOKED at") == 2
    # And restore gives it back
    assert admin(dev_stack.sim_url, "restore", "alice@example.com", "--apply") == 0
    assert browser.get(dev_stack.portal_url + "/?target=demo").status == 302
    assert "PORTAL_TARGETS" not in os.environ or os.environ["PORTAL_TARGETS"] == dev_stack.env["PORTAL_TARGETS"]


def test_make_dev_starts_serves_and_stops():
    # Given: the runner on ephemeral ports, as `make dev` starts it
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "AWS_"))}
    env["PYTHONPATH"] = f"{ROOT / 'lambda'}{os.pathsep}{ROOT}"
    process = subprocess.Popen(
        [sys.executable, "-m", "local.dev", "--port", "0", "--idp-port", "0", "--sim-port", "0", "--quiet"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # When
        lines: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Ctrl-C to stop" in line:
                break
        banner = "".join(lines)
        match = re.search(r"Open\s+(http://127\.0\.0\.1:\d+)/", banner)
        assert match, banner
        portal = match.group(1)
        sim = re.search(r"SageMaker\s+(http://127\.0\.0\.1:\d+)", banner).group(1)

        # Then: the demo targets are on, the simulator answers, and the portal serves
        assert "ML team Studio" in banner and f"{portal}/?target=demo&space=team-shared" in banner
        assert f"-m local.admin --sim {sim} revoke alice@example.com --apply" in banner
        state = Browser().get(f"{sim}/_sim/state")
        assert state.status == 200 and "d-team0portal02" in state.text
        health = Browser().get(f"{portal}/health")
        assert health.status == 200, health.text[:300]
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_local_admin_finds_the_simulator_of_make_dev():
    from local.admin import split_sim

    assert split_sim(["who", "a@x"], {}) == ("http://127.0.0.1:8001", ["who", "a@x"])
    assert split_sim(["who", "a@x"], {"PORTAL_LOCAL_SIM_PORT": "18001"})[0] == "http://127.0.0.1:18001"
    assert split_sim(["--sim", "http://127.0.0.1:9/", "who", "a@x"], {}) == ("http://127.0.0.1:9", ["who", "a@x"])
