"""The container's runtime: secrets read from Secrets Manager (through Powertools Parameters), the client
secret's JSON form, session-key rotation reaching warm containers, and configuration errors."""

import json

import boto3
import pytest
from botocore.stub import Stubber

from portal import runtime
from portal.aws import AwsDenied, AwsGateway
from portal.config import ConfigError, load_settings
from portal.errors import AwsRefused, PortalMisconfigured, for_aws
from portal.runtime import SESSION_COOKIE
from portal.sealing import Sealer

CLIENT_SECRET_NAME = "SageMakerStudioPortal/oidc-client"
SESSION_KEY_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:portal-session-key-AbCdEf"
OLD_KEY, NEW_KEY = "o" * 64, "n" * 64


@pytest.fixture
def secrets():
    session = boto3.session.Session(aws_access_key_id="t", aws_secret_access_key="t", region_name="us-east-1")
    client = session.client("secretsmanager")
    gateway = AwsGateway(session, clients={("secretsmanager", None): client})
    with Stubber(client) as stubber:
        yield gateway, stubber


def env(**overrides):
    base = {"PORTAL_OIDC_ISSUER": "https://idp.example.test", "PORTAL_OIDC_CLIENT_SECRET_ARN": CLIENT_SECRET_NAME,
            "PORTAL_SESSION_KEY_ARN": SESSION_KEY_ARN, "PORTAL_DOMAIN_ID": "d-abc123"}
    return {key: value for key, value in (base | overrides).items() if value is not None}


def answer(stubber, secret_id, value):
    stubber.add_response("get_secret_value", {"SecretString": value, "Name": secret_id}, {"SecretId": secret_id})


def test_client_id_and_secret_come_from_the_json_secret(secrets):
    gateway, stubber = secrets
    answer(stubber, CLIENT_SECRET_NAME, json.dumps({"client_id": "abc123", "client_secret": "shh"}))
    answer(stubber, SESSION_KEY_ARN, NEW_KEY)
    built = runtime.build(load_settings(env()), gateway)
    assert built.oidc.client_id == "abc123" and built.oidc.client_secret == "shh"
    sealed = built.session_sealer.seal({"sub": "a"}, 60)
    assert Sealer((NEW_KEY,), SESSION_COOKIE).open(sealed)["sub"] == "a"


def test_plain_client_secret_with_the_client_id_from_the_environment(secrets):
    gateway, stubber = secrets
    answer(stubber, CLIENT_SECRET_NAME, "plain-secret")
    answer(stubber, SESSION_KEY_ARN, NEW_KEY)
    built = runtime.build(load_settings(env(PORTAL_OIDC_CLIENT_ID="from-env")), gateway)
    assert (built.oidc.client_id, built.oidc.client_secret) == ("from-env", "plain-secret")


@pytest.mark.parametrize("value, message", [
    ("{not json", "malformed JSON"),
    (json.dumps({"client_id": "x"}), "no client secret"),
    (json.dumps({"client_secret": "x"}), "PORTAL_OIDC_CLIENT_ID is required"),
])
def test_unusable_client_secrets_name_the_variable(secrets, value, message):
    gateway, stubber = secrets
    answer(stubber, CLIENT_SECRET_NAME, value)
    with pytest.raises(ConfigError, match=message):
        runtime.build(load_settings(env()), gateway)


def test_short_session_key_in_the_secret_is_a_configuration_error(secrets):
    gateway, stubber = secrets
    answer(stubber, CLIENT_SECRET_NAME, json.dumps({"client_id": "a", "client_secret": "b"}))
    answer(stubber, SESSION_KEY_ARN, "too-short")
    with pytest.raises(ConfigError, match="PORTAL_SESSION_KEY_ARN"):
        runtime.build(load_settings(env()), gateway)


def test_secrets_manager_refusal_is_reported_as_aws_refused(secrets):
    gateway, stubber = secrets
    stubber.add_client_error("get_secret_value", "AccessDeniedException", "no", 400)
    with pytest.raises(AwsDenied) as raised:
        runtime.build(load_settings(env()), gateway)
    assert isinstance(for_aws(raised.value), AwsRefused)


def test_rotated_secrets_reach_a_warm_container(secrets, monkeypatch):
    gateway, stubber = secrets
    answer(stubber, CLIENT_SECRET_NAME, json.dumps({"client_id": "a", "client_secret": "b"}))
    answer(stubber, SESSION_KEY_ARN, OLD_KEY)
    built = runtime.build(load_settings(env()), gateway)
    old_cookie = built.session_sealer.seal({"sub": "alice"}, 600)
    # When IT puts a new key in front of the old one, Cognito's client is rotated, and the recheck interval passes
    answer(stubber, SESSION_KEY_ARN, f"{NEW_KEY},{OLD_KEY}")
    answer(stubber, CLIENT_SECRET_NAME, json.dumps({"client_id": "a2", "client_secret": "b2"}))
    built._secrets_checked -= runtime.SECRET_RECHECK_SECONDS + 1
    gateway._secrets.clear_cache()
    built.refresh_secrets()
    # Then new cookies use the new key and existing sessions still open
    assert Sealer((NEW_KEY,), SESSION_COOKIE).open(built.session_sealer.seal({"sub": "bob"}, 60))["sub"] == "bob"
    assert built.session_sealer.open(old_cookie)["sub"] == "alice"
    # And the next sign-in uses the new client
    assert (built.oidc.client_id, built.oidc.client_secret) == ("a2", "b2")
    stubber.assert_no_pending_responses()


def test_configuration_error_becomes_a_clear_misconfiguration(monkeypatch):
    runtime.reset()
    for name in ("PORTAL_OIDC_ISSUER", "PORTAL_DOMAIN_ID", "PORTAL_TARGETS"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(PortalMisconfigured, match="PORTAL_OIDC_ISSUER"):
        runtime.get()
    runtime.reset()


def test_a_fresh_read_bypasses_the_cache(secrets):
    # Given the client secret read once and cached for five minutes
    gateway, stubber = secrets
    answer(stubber, CLIENT_SECRET_NAME, json.dumps({"client_id": "a", "client_secret": "b"}))
    answer(stubber, SESSION_KEY_ARN, NEW_KEY)
    built = runtime.build(load_settings(env()), gateway)
    # When the client is replaced and the portal is told so (invalid_client) or starts a sign-in
    answer(stubber, CLIENT_SECRET_NAME, json.dumps({"client_id": "a2", "client_secret": "b2"}))
    assert built.reread_client_credentials() is True
    # Then Secrets Manager itself was asked, and the cache holds the new value for ordinary reads
    assert (built.oidc.client_id, built.oidc.client_secret) == ("a2", "b2")
    stubber.assert_no_pending_responses()
    assert json.loads(gateway.get_secret(CLIENT_SECRET_NAME))["client_id"] == "a2"

# --- SnapStart: init, snapshot, restore ----------------------------------------------------------------------
SNAP_START = {"AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start"}


def test_an_ordinary_cold_start_builds_nothing_at_import(monkeypatch):
    runtime.reset()
    assert runtime.initialise({"AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand"}) is None
    assert runtime.initialise({}) is None
    assert runtime.current() is None


def test_a_configuration_error_at_snapstart_init_is_the_not_configured_page_on_every_request(monkeypatch):
    from portal.handler import handler
    from tests.support.events import FakeContext, rest_event

    runtime.reset()
    for name in ("PORTAL_OIDC_ISSUER", "PORTAL_DOMAIN_ID", "PORTAL_TARGETS"):
        monkeypatch.delenv(name, raising=False)
    # Init does not fail
    assert runtime.initialise(SNAP_START) is None
    # Each request answers with the page, naming nothing secret
    for _ in range(2):
        response = handler(rest_event("/"), FakeContext())
        assert response["statusCode"] == 503 and "configured correctly" in response["body"]
    runtime.reset()


def test_init_warms_the_container_without_minting_anything():
    from tests.support.harness import Portal

    portal = Portal()
    portal.stubber.add_response("describe_domain", {
        "DomainArn": "arn:aws:sagemaker:us-east-1:123456789012:domain/d-demo0portal01", "AuthMode": "IAM"})
    try:
        warmed = runtime.prepare()
        assert warmed is runtime.current()
        # The IdP's discovery and keys were fetched; a sign-in now fetches nothing
        assert [url.rsplit("/", 1)[-1] for _, url, _, _ in portal.http.requests] == ["openid-configuration", "jwks"]
        # And nothing pooled goes into the snapshot
        assert portal.http.dropped == 1
        portal.get("/")
        assert len(portal.http.requests) == 2
        # Where the domain's profile ARNs start is known: the first ownership check reads tags at once
        assert warmed.launcher._profile_arn_prefix(warmed.settings.targets[0]) == \
            "arn:aws:sagemaker:us-east-1:123456789012:user-profile/d-demo0portal01/"
        portal.stubber.assert_no_pending_responses()
    finally:
        runtime.reset()


def test_after_restore_the_secrets_cached_before_the_snapshot_are_read_again(secrets):
    gateway, stubber = secrets
    answer(stubber, CLIENT_SECRET_NAME, json.dumps({"client_id": "a", "client_secret": "b"}))
    answer(stubber, SESSION_KEY_ARN, OLD_KEY)
    built = runtime.install(runtime.build(load_settings(env()), gateway))
    try:
        # The snapshot was taken at init; days later a copy is restored, the key rotated meanwhile. Powertools'
        # five-minute cache has expired by the wall clock (cleared here); the monotonic recheck time has not moved.
        gateway._secrets.clear_cache()
        answer(stubber, SESSION_KEY_ARN, f"{NEW_KEY},{OLD_KEY}")
        answer(stubber, CLIENT_SECRET_NAME, json.dumps({"client_id": "a2", "client_secret": "b2"}))
        runtime.after_restore()
        # Before any request, the restored copy seals with the new key and uses the new client
        stubber.assert_no_pending_responses()
        assert Sealer((NEW_KEY,), SESSION_COOKIE).open(built.session_sealer.seal({"sub": "b"}, 60))["sub"] == "b"
        assert built.oidc.client_id == "a2"
    finally:
        runtime.reset()


def test_no_pooled_connection_is_in_the_snapshot_or_survives_a_restore(secrets, monkeypatch):
    import threading

    from portal.http import JsonHttpClient

    gateway, _ = secrets
    http = JsonHttpClient()
    built = runtime.build(load_settings(env(PORTAL_OIDC_CLIENT_SECRET_ARN=None, PORTAL_SESSION_KEY_ARN=None,
                                            PORTAL_OIDC_CLIENT_SECRET="s", PORTAL_OIDC_CLIENT_ID="c",
                                            PORTAL_SESSION_KEY="k" * 48)), gateway, http=http)
    # A connection pool on each side: SageMaker's client and the IdP's
    sagemaker = gateway.sagemaker()
    sagemaker_pools = sagemaker._endpoint.http_session._manager.pools
    sagemaker._endpoint.http_session._manager.connection_from_url("https://api.sagemaker.us-east-1.amazonaws.com")
    http._pool.connection_from_url("https://idp.example.test")
    assert len(sagemaker_pools) == 1 and len(http._pool.pools) == 1
    runtime.install(built)
    monkeypatch.setattr(runtime, "RESTORE_SECRETS_WAIT_SECONDS", 0.1)
    try:
        runtime.before_snapshot()
        assert len(sagemaker_pools) == 0 and len(http._pool.pools) == 0
        sagemaker._endpoint.http_session._manager.connection_from_url("https://api.sagemaker.us-east-1.amazonaws.com")
        runtime.after_restore()
        assert len(sagemaker_pools) == 0
        assert not [thread for thread in threading.enumerate() if thread.name.startswith("portal")]
    finally:
        runtime.reset()
