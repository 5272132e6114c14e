"""The administrator's own AWS calls (portal.admin_aws): the Cognito user found by exact comparison, and the
function never importing the module (its bundle's pruned SDK lacks these operations)."""

import subprocess
import sys

import boto3
import pytest
from botocore.stub import Stubber

from portal.access import Access
from portal.admin_aws import AdminGateway, CognitoUserNotFound

POOL = "eu-west-1_AbC123"


@pytest.fixture
def cognito():
    session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name="eu-west-1")
    client = session.client("cognito-idp", region_name="eu-west-1")
    gateway = AdminGateway(session, clients={("cognito-idp", "eu-west-1"): client})
    with Stubber(client) as stubber:
        yield gateway, stubber
        stubber.assert_no_pending_responses()


def user(username: str, **attributes: str) -> dict:
    return {"Username": username, "Attributes": [{"Name": k, "Value": v} for k, v in attributes.items()]}


def test_the_user_is_the_one_whose_attribute_equals_the_identity_exactly(cognito):
    gateway, stubber = cognito
    # Cognito's filter answers case-insensitively; only the exact value counts
    stubber.add_response("list_users", {"Users": [user("okta_ALICE", email="ALICE@example.com"),
                                                  user("okta_alice", email="alice@example.com")]},
                         {"UserPoolId": POOL, "Filter": 'email = "alice@example.com"'})
    assert gateway.cognito_username(POOL, "email", "alice@example.com") == "okta_alice"


def test_quotes_in_the_identity_are_escaped_in_the_filter(cognito):
    gateway, stubber = cognito
    stubber.add_response("list_users", {"Users": [user("u1", email='o"neil@example.com')]},
                         {"UserPoolId": POOL, "Filter": 'email = "o\\"neil@example.com"'})
    assert gateway.cognito_username(POOL, "email", 'o"neil@example.com') == "u1"


@pytest.mark.parametrize("users, problem", [
    ([], "no user"),
    ([user("a", email="alice@example.com"), user("b", email="alice@example.com")], r"2 users \(a, b\)"),
    ([user("a", email="Alice@example.com")], "no user"),
])
def test_no_match_or_two_are_refused_not_guessed(cognito, users, problem):
    gateway, stubber = cognito
    stubber.add_response("list_users", {"Users": users})
    with pytest.raises(CognitoUserNotFound, match=problem):
        gateway.cognito_username(POOL, "email", "alice@example.com")


def test_sub_and_username_claims_are_searched_and_custom_claims_refused(cognito):
    gateway, stubber = cognito
    stubber.add_response("list_users", {"Users": [user("x", sub="1234")]},
                         {"UserPoolId": POOL, "Filter": 'sub = "1234"'})
    assert gateway.cognito_username(POOL, "sub", "1234") == "x"
    stubber.add_response("list_users", {"Users": [user("bob")]}, {"UserPoolId": POOL, "Filter": 'username = "bob"'})
    assert gateway.cognito_username(POOL, "cognito:username", "bob") == "bob"
    with pytest.raises(CognitoUserNotFound, match="--cognito-username"):
        gateway.cognito_username(POOL, "custom:employee_id", "42")


def test_revoke_signs_out_then_disables_and_restore_enables(cognito):
    gateway, stubber = cognito
    expected = {"UserPoolId": POOL, "Username": "okta_alice"}
    stubber.add_response("admin_user_global_sign_out", {}, expected)
    stubber.add_response("admin_disable_user", {}, expected)
    stubber.add_response("admin_enable_user", {}, expected)
    access = Access(gateway, "studiouserid", "email")
    revoked = access.cognito(POOL, "alice@example.com", "okta_alice", disable=True, apply=True)
    assert not revoked.failed and revoked.lines == ["global sign-out (refresh tokens revoked): user okta_alice",
                                                    "disable (no new sign-in): user okta_alice"]
    assert not access.cognito(POOL, "alice@example.com", "okta_alice", disable=False, apply=True).failed


def test_a_dry_run_calls_nothing_and_a_failure_is_reported(cognito):
    gateway, stubber = cognito
    access = Access(gateway, "studiouserid", "email")
    dry = access.cognito(POOL, "alice@example.com", "okta_alice", disable=True, apply=False)
    assert dry.lines[0].startswith("would global sign-out")
    stubber.add_client_error("admin_user_global_sign_out", "NotAuthorizedException", "no")
    stubber.add_response("admin_disable_user", {})
    failed = access.cognito(POOL, "alice@example.com", "okta_alice", disable=True, apply=True)
    assert failed.failed and failed.lines[0].startswith("FAILED: global sign-out")
    assert failed.lines[1] == "disable (no new sign-in): user okta_alice"  # the next step still runs


def test_the_function_never_imports_the_admin_modules():
    code = "import sys, portal.handler; print(sorted(m for m in sys.modules if m.startswith('portal.')))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={"PYTHONPATH": "lambda", "PATH": "/usr/bin"}).stdout
    assert "portal.handler" in loaded
    assert "portal.admin_aws" not in loaded and "portal.access" not in loaded and "portal.admin'" not in loaded
