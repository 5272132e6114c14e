"""Assumed-role sessions at scale: 2,000 distinct people launching through PORTAL_LAUNCH_ROLE_ARN (AssumeRole
per person with the owner session tag, then CreatePresignedDomainUrl) keep the container's memory bounded,
and every presign is signed with that person's own credentials. The memory figure is printed (-s)."""

import datetime
import gc
import json
import os
import tracemalloc

import boto3
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber

from portal.aws import AwsGateway, role_session_name

PEOPLE = int(os.environ.get("PORTAL_ASSUMED_PEOPLE", "2000"))
LAUNCH_ROLE = "arn:aws:iam::123456789012:role/portal-launch"
DOMAIN = "d-demo0portal01"
# Python allocations after 2,000 people: the sessions' credentials (about 1 kB each) and the cache around them.
# Holding a client per person instead costs about 0.7 MB each (480 MB for 500 people, measured before).
BOUND_MB = 24


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: object):
        yield self._data


def answer_presigns(client, signed_with: list[str]) -> None:
    """CreatePresignedDomainUrl answered on the wire's doorstep, after signing: record whose key signed it."""
    def respond(request, **_):
        credential = request.headers["Authorization"].decode().split("Credential=", 1)[1].split("/", 1)[0]
        signed_with.append(credential)
        body = json.dumps({"AuthorizedUrl": f"https://{DOMAIN}.studio.sagemaker.aws/auth?token=for-{credential}"})
        return AWSResponse(request.url, 200, {"Content-Type": "application/x-amz-json-1.1"}, _Body(body.encode()))

    client.meta.events.register("before-send.sagemaker.CreatePresignedDomainUrl", respond)


def test_two_thousand_people_through_the_launch_role_keep_memory_bounded():
    session = boto3.session.Session(aws_access_key_id="t", aws_secret_access_key="t", region_name="us-east-1")
    sts = session.client("sts")
    gateway = AwsGateway(session, clients={("sts", None): sts})
    signed_with: list[str] = []
    expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
    people = [f"person-{index:05d}@corp.example" for index in range(PEOPLE)]
    # The first person builds the region's shared client (and loads its model): not part of the growth
    answer_presigns(gateway._assumed_client("sagemaker", None), signed_with)
    gc.collect()
    tracemalloc.start()  # before the answers are queued: each person's credentials count
    before = tracemalloc.get_traced_memory()[0]
    with Stubber(sts) as sts_stub:
        for index, email in enumerate(people):
            sts_stub.add_response("assume_role", {"Credentials": {
                "AccessKeyId": f"ASIA{index:016d}", "SecretAccessKey": f"{index:040d}",
                "SessionToken": f"{index:08d}" * 100,  # an 800-character token of its own
                "Expiration": expires}}, {"RoleArn": LAUNCH_ROLE, "RoleSessionName": role_session_name(email),
                                          "DurationSeconds": 3600, "Tags": [{"Key": "studiouserid", "Value": email}]})

        def launch(email: str) -> str:
            assumed = gateway.sagemaker(None, LAUNCH_ROLE, session_tags={"studiouserid": email}, session_name=email)
            return gateway.create_presigned_url(assumed, domain_id=DOMAIN, profile=email.split("@")[0],
                                                expires_seconds=30, session_seconds=43200)

        urls = [launch(email) for email in people]
        gc.collect()
        grown_mb = (tracemalloc.get_traced_memory()[0] - before) / 2**20
        tracemalloc.stop()
        sts_stub.assert_no_pending_responses()
    print(f"\n{PEOPLE} people through the launch role: Python allocations grew {grown_mb:.1f} MB "
          f"({grown_mb * 1024 / PEOPLE:.1f} kB per person)")
    # Every presign was signed with its own person's credentials, and answered for them
    assert signed_with == [f"ASIA{index:016d}" for index in range(PEOPLE)]
    assert all(url.endswith(f"for-ASIA{index:016d}") for index, url in enumerate(urls))
    assert grown_mb < BOUND_MB, f"{grown_mb:.1f} MB for {PEOPLE} people"
