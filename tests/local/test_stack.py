"""running_stack: what it starts, the environment it gives the portal, and what it leaves behind."""

from __future__ import annotations

import json
import os
import re
import socket
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config
from botocore.parsers import ResponseParserError

import portal.handler  # noqa: F401  (the real handler must import: the stack serves it by default)
from local.seed import DEMO_DOMAIN_ID, DemoUser
from local.stack import (
    DUMMY_ACCESS_KEY_ID,
    LOCAL_CLIENT_ID,
    LOCAL_CLIENT_SECRET,
    running_stack,
)
from portal import runtime
from tests.support.http_client import Browser


def echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A stand-in for the portal: reports the request and the environment it runs in."""
    names = ("PORTAL_OIDC_ISSUER", "PORTAL_DOMAIN_ID", "AWS_ENDPOINT_URL_SAGEMAKER", "AWS_ACCESS_KEY_ID")
    body = {"path": event["path"], "env": {name: os.environ.get(name) for name in names}}
    return {"statusCode": 200, "body": json.dumps(body)}


@pytest.fixture
def clean_env(monkeypatch):
    """A developer's shell: own AWS profile, own PORTAL_* settings."""
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile-on-this-machine")
    monkeypatch.setenv("PORTAL_DOMAIN_ID", "d-fromtheshell")
    monkeypatch.delenv("AWS_ENDPOINT_URL_SAGEMAKER", raising=False)
    monkeypatch.delenv("PORTAL_OIDC_ISSUER", raising=False)
    return monkeypatch


def test_environment_for_the_portal_and_its_restoration(clean_env):
    # When
    with running_stack(handler=echo) as stack:
        inside = dict(os.environ)
        seen = json.loads(Browser().get(stack.portal_url + "/").body)

    # Then: the portal saw the local pieces
    assert seen["env"] == {
        "PORTAL_OIDC_ISSUER": stack.idp_url,
        "PORTAL_DOMAIN_ID": DEMO_DOMAIN_ID,
        "AWS_ENDPOINT_URL_SAGEMAKER": stack.sim_url,
        "AWS_ACCESS_KEY_ID": DUMMY_ACCESS_KEY_ID,
    }
    assert stack.idp_url.startswith("http://127.0.0.1:") and stack.sim_url.startswith("http://127.0.0.1:")
    assert inside["PORTAL_OIDC_CLIENT_ID"] == LOCAL_CLIENT_ID
    assert inside["PORTAL_OIDC_CLIENT_SECRET"] == LOCAL_CLIENT_SECRET
    assert len(inside["PORTAL_SESSION_KEY"]) == 48
    assert inside["AWS_REGION"] == inside["AWS_DEFAULT_REGION"] == "us-east-1"
    assert inside["POWERTOOLS_TRACE_DISABLED"] == "true"
    assert inside["POWERTOOLS_SERVICE_NAME"] == "sagemaker-studio-portal"
    assert inside["POWERTOOLS_METRICS_NAMESPACE"] == "StudioPortal"
    assert "AWS_PROFILE" not in inside
    # And everything is back as it was
    assert os.environ["AWS_PROFILE"] == "no-such-profile-on-this-machine"
    assert os.environ["PORTAL_DOMAIN_ID"] == "d-fromtheshell"
    assert "AWS_ENDPOINT_URL_SAGEMAKER" not in os.environ
    assert "PORTAL_SESSION_KEY" not in os.environ or os.environ["PORTAL_SESSION_KEY"] != inside["PORTAL_SESSION_KEY"]


def test_each_run_gets_a_new_session_key():
    with running_stack(handler=echo) as first:
        key = first.env["PORTAL_SESSION_KEY"]
    with running_stack(handler=echo) as second:
        assert second.env["PORTAL_SESSION_KEY"] != key


def test_unchanged_boto3_reaches_the_simulator(clean_env):
    with running_stack(handler=echo) as stack:
        client = boto3.session.Session().client("sagemaker")  # no endpoint, region or credentials given
        assert client.describe_domain(DomainId=DEMO_DOMAIN_ID)["AuthMode"] == "IAM"
        assert stack.sim.calls[-1].operation == "DescribeDomain"


def test_other_aws_services_never_leave_the_machine(clean_env):
    with running_stack(handler=echo):
        sts = boto3.session.Session().client("sts", config=Config(retries={"total_max_attempts": 1}))
        with pytest.raises((botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError, ResponseParserError)):
            sts.get_caller_identity()


def test_the_idp_issuer_is_the_url_the_portal_is_given():
    with running_stack(handler=echo) as stack:
        discovery = json.loads(Browser().get(stack.idp_url + "/.well-known/openid-configuration").body)
        assert discovery["issuer"] == stack.idp_url
        assert discovery["authorization_endpoint"].startswith(stack.idp_url + "/")


def test_idp_offers_the_demo_users_and_custom_ones():
    with running_stack(handler=echo) as stack:
        form = Browser().get(
            f"{stack.idp_url}/oauth2/authorize?client_id={LOCAL_CLIENT_ID}&response_type=code&scope=openid"
            f"&redirect_uri={stack.portal_url}/callback&nonce=n&state=s"
        )
        for email in (
            "alice@example.com",
            "bob@example.com",
            "john.doe@example.com",
            "pending.pat@example.com",
            "carol@example.com",
        ):
            assert email in form.text
        assert stack.users[0].claims["email_verified"] is True

    custom = [DemoUser("dave@example.com", "Dave", "test"), {"sub": "s-1", "claims": {"email": "erin@example.com"}}]
    with running_stack(handler=echo, users=custom) as stack:
        assert [u.sub for u in stack.users] == ["dave@example.com", "s-1"]


def test_overrides_win_and_none_removes(clean_env):
    clean_env.setenv("PORTAL_BASE_URL", "https://portal.example.com")
    overrides = {"PORTAL_DOMAIN_ID": "d-sso0domain01", "PORTAL_BASE_URL": None}
    with running_stack(handler=echo, env_overrides=overrides):
        assert os.environ["PORTAL_DOMAIN_ID"] == "d-sso0domain01"
        assert "PORTAL_BASE_URL" not in os.environ
    assert os.environ["PORTAL_BASE_URL"] == "https://portal.example.com"


def test_portal_runtime_is_reset_on_entry_and_exit(monkeypatch):
    resets: list[str | None] = []
    monkeypatch.setattr(runtime, "reset", lambda: resets.append(os.environ.get("PORTAL_SESSION_KEY")))
    with running_stack(handler=echo) as stack:
        key = stack.env["PORTAL_SESSION_KEY"]
    assert resets == [key, key]  # on entry with the new environment, on exit before it is restored


def test_stage_prefix_is_part_of_the_portal_url():
    with running_stack(handler=echo, stage_prefix="/prod") as stack:
        assert stack.portal_url.endswith("/prod")
        assert json.loads(Browser().get(stack.portal_url + "/callback").body)["path"] == "/callback"


def test_only_get_is_routed_as_deployed():
    with running_stack(handler=echo) as stack:
        assert Browser().request("POST", stack.portal_url + "/callback", body="x").status == 403


def test_real_sagemaker_mode_starts_no_simulator(clean_env):
    clean_env.delenv("AWS_ACCESS_KEY_ID", raising=False)
    with running_stack(handler=echo, local_sagemaker=False) as stack:
        seen = json.loads(Browser().get(stack.portal_url + "/").body)["env"]
    assert stack.sim is None and stack.sim_url is None
    assert seen["AWS_ENDPOINT_URL_SAGEMAKER"] is None
    assert seen["AWS_ACCESS_KEY_ID"] is None
    assert seen["PORTAL_DOMAIN_ID"] == "d-fromtheshell"  # the user's own domain


def test_real_idp_mode_starts_no_idp(clean_env):
    issuer = "https://login.example.com/tenant"
    with running_stack(handler=echo, local_idp=False, env_overrides={"PORTAL_OIDC_ISSUER": issuer}) as stack:
        assert stack.idp_url == issuer
        assert os.environ.get("PORTAL_OIDC_CLIENT_ID") != LOCAL_CLIENT_ID


def test_a_busy_port_is_an_os_error_and_nothing_is_left_running():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(OSError, match=str(port)), running_stack(handler=echo, portal_port=port):
            pass
    with running_stack(handler=echo) as stack:
        assert Browser().get(stack.portal_url + "/").status == 200


def test_the_real_portal_handler_is_served_by_default():
    with running_stack() as stack:
        assert Browser().get(stack.portal_url + "/health").status == 200


def test_the_function_never_depends_on_the_local_tooling():
    # The bundle is lambda/portal, templates and lambda/requirements.txt: none may need local/ or its packages.
    root = Path(__file__).resolve().parents[2]
    for source in (root / "lambda" / "portal").rglob("*.py"):
        text = source.read_text()
        assert not re.search(r"^\s*(from|import)\s+local\b", text, re.MULTILINE), source
    requirements = (root / "lambda" / "requirements.txt").read_text().lower()
    for package in ("oidc-provider-mock", "werkzeug", "flask"):
        assert package not in requirements


def test_a_simulator_can_be_reused_across_stacks():
    from local.sagemaker_sim import SageMakerSim

    sim = SageMakerSim()
    for _ in range(2):
        with running_stack(handler=echo, sim=sim) as stack:
            client = boto3.session.Session().client("sagemaker")
            url = client.create_presigned_domain_url(DomainId=DEMO_DOMAIN_ID, UserProfileName="alice")["AuthorizedUrl"]
            assert url.startswith(stack.sim_url + "/studio/auth?token=")
            assert Browser().get(url).status == 200
