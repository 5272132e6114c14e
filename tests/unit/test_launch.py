import datetime
import threading

import boto3
import pytest
from botocore.credentials import ReadOnlyCredentials
from botocore.stub import Stubber

from portal.aws import AssumedSession, AwsDenied, AwsDown, AwsGateway, AwsThrottling, Gateway, role_session_name
from portal.cache import ExpiringCache
from portal.errors import (
    AwsRefused,
    AwsThrottled,
    AwsUnavailable,
    DomainUnusable,
    ProfileNotFound,
    ProfileNotOwned,
    ProfileNotReady,
    ProfilePreparing,
    ProvisioningRefused,
    SpaceNotFound,
    for_aws,
)
from portal.identity import owner_value
from portal.launch import Launcher, LaunchPolicy, Person
from portal.targets import Provisioning, Target

DOMAIN = "d-demo0portal01"
ARN = f"arn:aws:sagemaker:us-east-1:123456789012:user-profile/{DOMAIN}/alice"
TARGET = Target(id="studio", label="Studio", domain_id=DOMAIN)


def person(email):
    return Person(identity=email, owner=owner_value(email), claims={"email": email})
POLICY = LaunchPolicy(owner_tag="studiouserid", url_expires_seconds=30, studio_session_seconds=43200)


@pytest.fixture
def session():
    return boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")


@pytest.fixture
def sagemaker(session):
    client = session.client("sagemaker")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def gateway(session, sagemaker):
    return AwsGateway(session, clients={("sagemaker", None): sagemaker[0]})


def expect_profile(stubber, name="alice", status="InService", owner="alice@example.com"):
    stubber.add_response("describe_user_profile", {"UserProfileArn": ARN.replace("alice", name), "Status": status},
                         {"DomainId": DOMAIN, "UserProfileName": name})
    tags = [{"Key": "studiouserid", "Value": owner}] if owner is not None else []
    stubber.add_response("list_tags", {"Tags": [*tags, {"Key": "team", "Value": "ml"}]},
                         {"ResourceArn": ARN.replace("alice", name), "MaxResults": 100})


def expect_presign(stubber, name="alice", url="https://d-demo.studio.us-east-1.sagemaker.aws/auth?token=SECRET", **extra):
    stubber.add_response("create_presigned_domain_url", {"AuthorizedUrl": url},
                         {"DomainId": DOMAIN, "UserProfileName": name, "ExpiresInSeconds": 30,
                          "SessionExpirationDurationInSeconds": 43200, **extra})


def test_first_launch_checks_ownership_then_presigns(gateway, sagemaker):
    _, stubber = sagemaker
    expect_profile(stubber)
    expect_presign(stubber)
    launch = Launcher(gateway, POLICY).launch(person("Alice@Example.com"), TARGET)
    assert launch.url.endswith("token=SECRET") and launch.profile == "alice" and launch.domain_id == DOMAIN


def test_warm_launch_is_exactly_one_aws_call(gateway, sagemaker):
    _, stubber = sagemaker
    launcher = Launcher(gateway, POLICY)
    expect_profile(stubber)
    expect_presign(stubber)
    launcher.launch(person("alice@example.com"), TARGET)
    # Second launch: only CreatePresignedDomainUrl is stubbed; any other call would fail the stubber.
    expect_presign(stubber, url="https://second")
    assert launcher.launch(person("alice@example.com"), TARGET).url == "https://second"


def test_cache_entries_expire():
    now = [0.0]
    cache = ExpiringCache(60, clock=lambda: now[0])
    cache.put("k", True)
    assert cache.get("k")
    now[0] = 61
    assert cache.get("k") is None


def test_cache_is_bounded():
    cache = ExpiringCache(60, max_entries=2)
    for key in ("a", "b", "c"):
        cache.put(key, True)
    assert cache.get("a") is None and cache.get("c")


@pytest.mark.parametrize("owner", ["john-doe@example.com", None, "JOHN.DOE@EXAMPLE.COM", "john.doe@example.co"])
def test_profile_owned_by_someone_else_gets_no_url(gateway, sagemaker, owner):
    _, stubber = sagemaker
    expect_profile(stubber, name="john-doe", owner=owner)
    with pytest.raises(ProfileNotOwned):
        Launcher(gateway, POLICY).launch(person("john.doe@example.com"), TARGET)


def test_refusal_is_not_cached(gateway, sagemaker):
    _, stubber = sagemaker
    launcher = Launcher(gateway, POLICY)
    for _ in range(2):
        expect_profile(stubber, name="john-doe", owner="john-doe@example.com")
        with pytest.raises(ProfileNotOwned):
            launcher.launch(person("john.doe@example.com"), TARGET)


def test_profile_not_in_service(gateway, sagemaker):
    _, stubber = sagemaker
    expect_profile(stubber, status="Pending")
    with pytest.raises(ProfileNotReady) as raised:
        Launcher(gateway, POLICY).launch(person("alice@example.com"), TARGET)
    assert raised.value.page_context["profile_status"] == "Pending"


def _not_found(stubber, operation):
    stubber.add_client_error(operation, "ResourceNotFound", "not found", 400)


def test_missing_profile_in_an_iam_domain(gateway, sagemaker):
    _, stubber = sagemaker
    _not_found(stubber, "describe_user_profile")
    stubber.add_response("describe_domain", {"AuthMode": "IAM", "Status": "InService"}, {"DomainId": DOMAIN})
    with pytest.raises(ProfileNotFound):
        Launcher(gateway, POLICY).launch(person("carol@example.com"), TARGET)


def test_missing_domain(gateway, sagemaker):
    _, stubber = sagemaker
    _not_found(stubber, "describe_user_profile")
    _not_found(stubber, "describe_domain")
    with pytest.raises(DomainUnusable):
        Launcher(gateway, POLICY).launch(person("carol@example.com"), TARGET)


def test_domain_not_in_iam_mode_refused_at_presign(gateway, sagemaker):
    _, stubber = sagemaker
    expect_profile(stubber)
    stubber.add_client_error("create_presigned_domain_url", "ValidationException", "not IAM", 400)
    stubber.add_response("describe_domain", {"AuthMode": "SSO", "Status": "InService"}, {"DomainId": DOMAIN})
    with pytest.raises(DomainUnusable):
        Launcher(gateway, POLICY).launch(person("alice@example.com"), TARGET)


def test_profile_deleted_after_the_cached_check(gateway, sagemaker):
    _, stubber = sagemaker
    launcher = Launcher(gateway, POLICY)
    expect_profile(stubber)
    expect_presign(stubber)
    launcher.launch(person("alice@example.com"), TARGET)
    _not_found(stubber, "create_presigned_domain_url")
    with pytest.raises(ProfileNotFound):
        launcher.launch(person("alice@example.com"), TARGET)
    # The cache was dropped: the next launch checks ownership again.
    expect_profile(stubber)
    expect_presign(stubber)
    launcher.launch(person("alice@example.com"), TARGET)


@pytest.mark.parametrize("code, status, signal, page", [
    ("ThrottlingException", 400, AwsThrottling, AwsThrottled),  # the unavailable page, counted as aws_throttled
    ("InternalFailure", 500, AwsDown, AwsUnavailable),
    ("AccessDeniedException", 400, AwsDenied, AwsRefused),
    ("SomethingNew", 400, AwsDenied, AwsRefused),
])
def test_aws_errors_are_translated(gateway, sagemaker, code, status, signal, page):
    # aws.py answers with the AWS-level signal; the page is decided above it (portal.errors.for_aws)
    _, stubber = sagemaker
    stubber.add_client_error("describe_user_profile", code, "nope", status)
    with pytest.raises(signal) as raised:
        Launcher(gateway, POLICY).launch(person("alice@example.com"), TARGET)
    assert type(raised.value) is signal and raised.value.operation == "DescribeUserProfile"
    assert type(for_aws(raised.value)) is page


def test_launch_role_presigns_with_the_identity_as_session_tag(session, sagemaker):
    # Given a launch role (IAM-enforced ownership) and a client for its assumed credentials
    role = "arn:aws:iam::123456789012:role/portal-launch"
    assumed = session.client("sagemaker")
    sts = session.client("sts")
    gateway = AwsGateway(session, clients={("sagemaker", None): sagemaker[0], ("sts", None): sts},
                         # the region's shared client for assumed sessions
                         assumed_clients={("sagemaker", None): assumed})
    expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
    launcher = Launcher(gateway, LaunchPolicy(**{**POLICY.__dict__, "launch_role_arn": role}))
    with Stubber(sts) as sts_stub, Stubber(assumed) as assumed_stub:
        sts_stub.add_response("assume_role", {"Credentials": {
            "AccessKeyId": "AKIAEXAMPLEEXAMPLE12", "SecretAccessKey": "x" * 40, "SessionToken": "t" * 20,
            "Expiration": expires}}, {"RoleArn": role, "RoleSessionName": role_session_name("alice@example.com"),
                                      "DurationSeconds": 3600,
                                      "Tags": [{"Key": "studiouserid", "Value": "alice@example.com"}]})
        expect_profile(sagemaker[1])
        expect_presign(assumed_stub)
        # When alice launches twice
        launcher.launch(person("alice@example.com"), TARGET)
        expect_presign(assumed_stub)
        launcher.launch(person("alice@example.com"), TARGET)
        # Then one AssumeRole served both (credentials cached), and the presign used the assumed role
        sts_stub.assert_no_pending_responses()
        assumed_stub.assert_no_pending_responses()
        # And the cached session holds the assumed credentials themselves
        held = gateway.sagemaker(None, role, session_tags={"studiouserid": "alice@example.com"},
                                 session_name="alice@example.com")
        assert held.client is assumed and held.credentials.token == "t" * 20


PROVISIONED = Target(id="team", label="Team", domain_id=DOMAIN, provision=Provisioning(
    execution_role_arn="arn:aws:iam::123456789012:role/Exec", email_domains=("example.com",), tags=(("team", "ml"),)))


def test_missing_profile_is_created_tagged_for_its_owner(gateway, sagemaker):
    _, stubber = sagemaker
    _not_found(stubber, "describe_user_profile")
    stubber.add_response("describe_domain", {"AuthMode": "IAM"}, {"DomainId": DOMAIN})
    stubber.add_response("create_user_profile", {"UserProfileArn": ARN}, {
        "DomainId": DOMAIN, "UserProfileName": "carol",
        "Tags": [{"Key": "team", "Value": "ml"}, {"Key": "studiouserid", "Value": "carol@example.com"}],
        "UserSettings": {"ExecutionRole": "arn:aws:iam::123456789012:role/Exec"}})
    with pytest.raises(ProfilePreparing):
        Launcher(gateway, POLICY).launch(person("Carol@example.com"), PROVISIONED)


def test_an_identity_outside_the_email_domains_gets_no_profile_created(gateway, sagemaker):
    _, stubber = sagemaker
    _not_found(stubber, "describe_user_profile")
    stubber.add_response("describe_domain", {"AuthMode": "IAM"}, {"DomainId": DOMAIN})
    # No create_user_profile is stubbed: calling it would fail the test.
    with pytest.raises(ProvisioningRefused) as refused:
        Launcher(gateway, POLICY).launch(person("carol@partner.example"), PROVISIONED)
    assert refused.value.page_context["email_domains"] == ("example.com",)


def test_a_name_that_belongs_to_someone_else_is_reported_with_what_the_helpdesk_needs(gateway, sagemaker):
    _, stubber = sagemaker
    expect_profile(stubber, name="carol", owner="carol@example.org")
    with pytest.raises(ProfileNotOwned) as refused:
        Launcher(gateway, POLICY).launch(person("carol@example.com"), PROVISIONED)
    assert refused.value.page_context | {"message": None} == {
        "message": None, "profile": "carol", "target_label": "Team", "domain_id": DOMAIN,
        "owner_tag": "studiouserid", "provisions": True, "identity": None}  # the routes name who is signed in


def test_concurrent_creation_counts_as_created(gateway, sagemaker):
    _, stubber = sagemaker
    _not_found(stubber, "describe_user_profile")
    stubber.add_response("describe_domain", {"AuthMode": "IAM"}, {"DomainId": DOMAIN})
    stubber.add_client_error("create_user_profile", "ResourceInUse", "exists", 400)
    with pytest.raises(ProfilePreparing):
        Launcher(gateway, POLICY).launch(person("carol@example.com"), PROVISIONED)


@pytest.mark.parametrize("age, outcome", [(60, ProfilePreparing), (3600, ProfileNotReady)])
def test_pending_provisioned_profile_is_polled_until_it_is_stuck(gateway, sagemaker, age, outcome):
    _, stubber = sagemaker
    created = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    stubber.add_response("describe_user_profile", {"UserProfileArn": ARN, "Status": "Pending", "CreationTime": created})
    stubber.add_response("list_tags", {"Tags": [{"Key": "studiouserid", "Value": "alice@example.com"}]})
    launcher = Launcher(gateway, POLICY, clock=lambda: created.timestamp() + age)
    with pytest.raises(outcome):
        launcher.launch(person("alice@example.com"), PROVISIONED)


def test_failed_provisioned_profile_is_not_polled(gateway, sagemaker):
    _, stubber = sagemaker
    expect_profile(stubber, status="Failed")
    with pytest.raises(ProfileNotReady):
        Launcher(gateway, POLICY).launch(person("alice@example.com"), PROVISIONED)


def test_cross_account_target_assumes_its_role_per_person_with_session_tags(session):
    # Given a target in another account whose role takes the owner as a session tag
    role = "arn:aws:iam::210987654321:role/StudioPortalLaunch"
    target = Target(id="ml", label="ML", domain_id=DOMAIN, role_arn=role, tag_session=True, region="eu-west-1")
    remote = session.client("sagemaker", region_name="eu-west-1")
    sts = session.client("sts")
    gateway = AwsGateway(session, clients={("sts", "eu-west-1"): sts},
                         assumed_clients={("sagemaker", "eu-west-1"): remote})
    expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
    credentials = {"Credentials": {"AccessKeyId": "AKIAEXAMPLEEXAMPLE12", "SecretAccessKey": "x" * 40,
                                   "SessionToken": "t" * 20, "Expiration": expires}}
    launcher = Launcher(gateway, POLICY)
    with Stubber(sts) as sts_stub, Stubber(remote) as remote_stub:
        for email in ("alice@example.com", "bob@example.com"):
            sts_stub.add_response("assume_role", credentials, {
                "RoleArn": role, "RoleSessionName": role_session_name(email), "DurationSeconds": 3600,
                "Tags": [{"Key": "studiouserid", "Value": email}]})
            name = email.split("@")[0]
            expect_profile(remote_stub, name=name, owner=email)
            expect_presign(remote_stub, name=name)
            launcher.launch(person(email), target)
        # When alice comes back: her cached credentials, no new AssumeRole, one call
        expect_presign(remote_stub, name="alice")
        launcher.launch(person("alice@example.com"), target)
        sts_stub.assert_no_pending_responses()
        remote_stub.assert_no_pending_responses()


def test_assumed_role_sessions_are_bounded_least_recently_used_first(session, monkeypatch):
    import portal.aws

    monkeypatch.setattr(portal.aws, "_MAX_ASSUMED_SESSIONS", 2)
    assumed = []

    class Gateway(AwsGateway):
        def _assume(self, role_arn, tags, session_name, region):
            assumed.append(session_name)
            return AssumedSession(object(), ReadOnlyCredentials("AKIA", "s", "t"), 4102444800.0)  # valid for years

    gateway = Gateway(session)
    role = "arn:aws:iam::210987654321:role/R"
    for name in ("a@x", "b@x", "a@x", "c@x", "a@x", "b@x"):
        gateway.sagemaker(None, role, session_name=name)
    # a stays warm (used most recently); b was evicted by c and had to be assumed again
    assert assumed == ["a@x", "b@x", "c@x", "b@x"]


def test_space_deleted_after_the_cached_listing_is_reported_as_a_missing_space(gateway, sagemaker):
    _, stubber = sagemaker
    launcher = Launcher(gateway, POLICY)
    expect_profile(stubber)
    stubber.add_response("list_spaces", {"Spaces": [{"SpaceName": "team-room", "DomainId": DOMAIN,
                                                     "SpaceSharingSettingsSummary": {"SharingType": "Shared"}}]})
    _not_found(stubber, "create_presigned_domain_url")
    with pytest.raises(SpaceNotFound):
        launcher.launch(person("alice@example.com"), TARGET, space="team-room")


# --- the ownership check's two reads, side by side ----------------------------------------------------------
class OverlapGateway(Gateway):
    """DescribeUserProfile and ListTags meet at a barrier: each returns only while the other is in flight too,
    so a check that makes them one after the other fails with BrokenBarrierError instead of passing slowly."""

    region: str | None = "us-east-1"

    def __init__(self, arn=ARN, overlap=True, tags_by_arn=None):
        import threading

        self.arn, self.region = arn, "us-east-1"
        self.barrier = threading.Barrier(2, timeout=2) if overlap else None
        self.tags_by_arn = tags_by_arn or {}
        self.calls: list[tuple[str, str]] = []

    def _meet(self):
        if self.barrier is not None:
            self.barrier.wait()

    def sagemaker(self, region=None, role_arn=None, session_tags=None, session_name="studio-portal"):
        return "client"

    def describe_domain(self, client, domain_id):
        from portal.aws import Domain

        self.calls.append(("DescribeDomain", domain_id))
        return Domain(auth_mode="IAM", status="InService", arn=self.arn.split(":user-profile/")[0] + f":domain/{domain_id}")

    def describe_user_profile(self, client, domain_id, profile):
        from portal.aws import UserProfile

        self.calls.append(("DescribeUserProfile", profile))
        self._meet()
        return UserProfile(arn=self.arn.replace("/alice", f"/{profile}"), status="InService")

    def list_tags(self, client, arn):
        self.calls.append(("ListTags", arn))
        self._meet()
        # By default each profile belongs to <its name>@example.com
        return self.tags_by_arn.get(arn, {"studiouserid": arn.rsplit("/", 1)[1] + "@example.com"})

    def create_presigned_url(self, client, **request):
        self.calls.append(("CreatePresignedDomainUrl", request["profile"]))
        return "https://studio/auth?token=SECRET"


def test_after_init_learnt_the_domain_the_first_check_reads_profile_and_tags_side_by_side():
    fake = OverlapGateway()
    launcher = Launcher(fake, POLICY)
    launcher.learn_profile_arns((TARGET,))  # what init does; DescribeDomain gives the ARN's account and region
    fake.calls.clear()
    launcher.launch(person("alice@example.com"), TARGET)
    assert sorted(fake.calls[:2]) == [("DescribeUserProfile", "alice"), ("ListTags", ARN)]
    assert fake.calls[2:] == [("CreatePresignedDomainUrl", "alice")]
    # Warm: one call
    fake.calls.clear()
    launcher.launch(person("alice@example.com"), TARGET)
    assert fake.calls == [("CreatePresignedDomainUrl", "alice")]


def test_without_a_known_prefix_the_first_check_is_sequential_and_teaches_the_next():
    sequential = OverlapGateway(overlap=False)
    launcher = Launcher(sequential, POLICY)
    launcher.launch(person("alice@example.com"), TARGET)
    assert sequential.calls == [("DescribeUserProfile", "alice"), ("ListTags", ARN),
                                ("CreatePresignedDomainUrl", "alice")]
    # The next person's check overlaps (the barrier would break otherwise)
    sequential.barrier = threading.Barrier(2, timeout=2)
    sequential.calls.clear()
    launcher.launch(person("bob@example.com"), TARGET)
    assert ("ListTags", ARN.replace("/alice", "/bob")) in sequential.calls


def test_tags_read_for_a_mispredicted_arn_never_count():
    # The domain is in another account than predicted: the tags at the predicted ARN say Alice, the described
    # profile's own tags say Bob. Only the described profile's tags may decide.
    wrong = ARN.replace("123456789012", "999999999999")
    fake = OverlapGateway(tags_by_arn={wrong: {"studiouserid": "alice@example.com"},
                                       ARN: {"studiouserid": "bob@example.com"}})
    launcher = Launcher(fake, POLICY)
    launcher._profile_arn_prefixes[TARGET.id] = wrong[: -len("alice")]
    fake.barrier = None  # the second ListTags runs alone
    with pytest.raises(ProfileNotOwned):
        launcher.launch(person("alice@example.com"), TARGET)
    assert [call for call in fake.calls if call[0] == "ListTags"] == [("ListTags", wrong), ("ListTags", ARN)]


def test_a_failed_concurrent_tag_read_is_made_again_and_describe_errors_stay_describes():
    fake = OverlapGateway(overlap=False)
    launcher = Launcher(fake, POLICY)
    launcher.learn_profile_arns((TARGET,))
    original = fake.list_tags
    failures = iter([AwsUnavailable("ListTags: ThrottlingException")])

    def flaky(client, arn):
        error = next(failures, None)
        if error:
            fake.calls.append(("ListTags", arn))
            raise error
        return original(client, arn)

    fake.list_tags = flaky
    launcher.launch(person("alice@example.com"), TARGET)
    assert [call[0] for call in fake.calls].count("ListTags") == 2

    def missing(client, domain_id, profile):
        raise AwsUnavailable("DescribeUserProfile: ThrottlingException")

    fake.describe_user_profile = missing
    with pytest.raises(AwsUnavailable, match="DescribeUserProfile"):
        launcher.launch(person("carol@example.com"), TARGET)


def test_a_role_targets_profile_arn_is_predicted_from_the_role():
    role_target = Target(id="team", label="Team", domain_id=DOMAIN, region="eu-west-1",
                         role_arn="arn:aws:iam::210987654321:role/StudioPortalLaunch")
    fake = OverlapGateway(arn=f"arn:aws:sagemaker:eu-west-1:210987654321:user-profile/{DOMAIN}/alice")
    Launcher(fake, POLICY).launch(person("alice@example.com"), role_target)
    assert ("ListTags", f"arn:aws:sagemaker:eu-west-1:210987654321:user-profile/{DOMAIN}/alice") in fake.calls


# --- what the chooser says about each target (profile_state): found without creating anything ------------
@pytest.mark.parametrize("status, owner, expected", [
    ("InService", "alice@example.com", ("open", "InService")),
    ("Pending", "alice@example.com", ("not_ready", "Pending")),
    ("Failed", "alice@example.com", ("failed", "Failed")),
    ("Deleting", "alice@example.com", ("failed", "Deleting")),
    ("InService", "someone@example.com", ("not_yours", None)),
])
def test_profile_state_of_an_existing_profile(gateway, sagemaker, status, owner, expected):
    expect_profile(sagemaker[1], status=status, owner=owner)
    assert Launcher(gateway, POLICY).profile_state(person("alice@example.com"), TARGET, "alice") == expected


def test_profile_state_of_a_missing_profile_never_creates_it(gateway, sagemaker):
    _, stubber = sagemaker
    for _ in range(3):
        _not_found(stubber, "describe_user_profile")
        stubber.add_response("describe_domain", {"AuthMode": "IAM"}, {"DomainId": DOMAIN})
    launcher = Launcher(gateway, POLICY)
    # no create_user_profile is stubbed: a call would fail the test
    assert launcher.profile_state(person("carol@example.com"), PROVISIONED, "carol") == ("create", None)
    assert launcher.profile_state(person("carol@elsewhere.example"), PROVISIONED, "carol") == ("missing", None)
    assert launcher.profile_state(person("carol@example.com"), TARGET, "carol") == ("missing", None)


def test_profile_state_of_a_profile_being_provisioned_and_of_an_unanswered_check(gateway, sagemaker):
    _, stubber = sagemaker
    expect_profile(stubber, name="carol", status="Pending", owner="carol@example.com")
    assert Launcher(gateway, POLICY).profile_state(person("carol@example.com"), PROVISIONED, "carol") == (
        "preparing", None)
    stubber.add_client_error("describe_user_profile", "AccessDeniedException", "no", 400)
    assert Launcher(gateway, POLICY).profile_state(person("alice@example.com"), TARGET, "alice") == ("unknown", None)
