"""The AWS gateway's own rules: STS session names, and assumed-role sessions that hold credentials only."""

import re

import boto3
import pytest
from botocore.credentials import ReadOnlyCredentials

from portal.aws import AssumedSession, AwsDenied, AwsDown, AwsGateway, role_session_name

STS_SESSION_NAME = re.compile(r"[A-Za-z0-9_+=,.@-]{2,64}")  # roleSessionNameType, ASCII as STS applies it


@pytest.mark.parametrize("identity", [
    "alice@example.com", "jürgen.müller@corp.example", "\u0458ohn@example.com", "a", "a" * 256 + "@x",
    "名前@例え.jp", "o'brien@corp.example", "DOMAIN\\user",
])
def test_session_names_are_ascii_within_stss_rules(identity):
    name = role_session_name(identity)
    assert STS_SESSION_NAME.fullmatch(name), name
    assert name == role_session_name(identity)  # the same person, the same name in CloudTrail


def test_session_names_stay_readable_and_never_shared():
    assert role_session_name("alice@example.com").startswith("alice@example.com-")
    assert role_session_name("jürgen.müller@corp.example").startswith("j-rgen.m-ller@corp.example-")
    # Two long identities alike in their first 53 characters, and two that differ only outside ASCII
    long_a, long_b = "x" * 60 + "a@corp.example", "x" * 60 + "b@corp.example"
    assert role_session_name(long_a) != role_session_name(long_b)
    assert role_session_name("jürgen@corp.example") != role_session_name("jÿrgen@corp.example")


def test_a_shared_assumed_client_never_signs_without_the_sessions_own_credentials():
    session = boto3.session.Session(aws_access_key_id="function", aws_secret_access_key="f", region_name="us-east-1")
    gateway = AwsGateway(session)
    shared = gateway._assumed_client("sagemaker", None)
    # Called outside an assumed session (nothing bound), the shared client has no credentials at all
    with pytest.raises(AwsDown, match="NoCredentialsError"):
        gateway.describe_domain(shared, "d-demo0portal01")
    signed = []
    shared.meta.events.register("before-send.sagemaker.DescribeDomain",
                                lambda request, **_: signed.append(request.headers["Authorization"]) or _refused())
    alice = AssumedSession(shared, ReadOnlyCredentials("ASIAALICE0000000000", "s", "t"), 4102444800.0)
    with pytest.raises(AwsDenied):  # the answer does not matter here, the signature does
        gateway.describe_domain(alice, "d-demo0portal01")
    assert b"Credential=ASIAALICE0000000000/" in signed[0]


def _refused():
    from botocore.awsrequest import AWSResponse

    class Body:
        def stream(self, **_):
            yield b'{"__type": "AccessDeniedException", "message": "no"}'

    return AWSResponse("https://x", 400, {"Content-Type": "application/x-amz-json-1.1"}, Body())


def test_a_call_given_up_on_makes_no_further_attempt_once_the_deadline_passed():
    from portal import deadline
    from portal.deadline import DeadlineExceeded
    from tests.unit.test_deadline import Context

    session = boto3.session.Session(aws_access_key_id="function", aws_secret_access_key="f", region_name="us-east-1")
    client = AwsGateway(session)._client("sagemaker")
    sent = []
    client.meta.events.register("before-send", lambda **_: sent.append(1))
    # On the worker a call was given up on: its next attempt (botocore retries there) is not made
    with deadline.request_deadline(Context(1_200)), pytest.raises(DeadlineExceeded):
        client.describe_domain(DomainId="d-demo0portal01")
    assert sent == []
