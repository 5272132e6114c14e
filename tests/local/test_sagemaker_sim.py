"""The SageMaker simulator through the unchanged boto3 client: protocol, validation, data, Studio, hooks."""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import datetime

import botocore.exceptions
import pytest
from botocore.validate import ParamValidator

from local._http import LocalServer
from local.sagemaker_sim import SageMakerSim, StudioTokenError
from local.seed import DEMO_DOMAIN_ID, SSO_DOMAIN_ID
from local.sim_validation import _compiled, constraint_errors, service_model
from tests.local.conftest import make_client
from tests.support.http_client import Browser

ALICE_ARN = f"arn:aws:sagemaker:us-east-1:123456789012:user-profile/{DEMO_DOMAIN_ID}/alice"


def error_of(excinfo: pytest.ExceptionInfo) -> tuple[str, str, int]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def presign(client, **params):
    params = {"DomainId": DEMO_DOMAIN_ID, "UserProfileName": "alice", **params}
    return client.create_presigned_domain_url(**params)["AuthorizedUrl"]


# ---- the seed, read back through boto3 -------------------------------------------------------------------


def test_describe_domain_reports_auth_mode_and_arn(client):
    # When
    demo = client.describe_domain(DomainId=DEMO_DOMAIN_ID)
    sso = client.describe_domain(DomainId=SSO_DOMAIN_ID)

    # Then
    assert demo["DomainArn"] == f"arn:aws:sagemaker:us-east-1:123456789012:domain/{DEMO_DOMAIN_ID}"
    assert (demo["DomainName"], demo["AuthMode"], demo["Status"]) == ("demo-studio", "IAM", "InService")
    assert sso["AuthMode"] == "SSO"
    assert isinstance(demo["CreationTime"], datetime)


def test_describe_user_profile_and_owner_tags(client):
    profile = client.describe_user_profile(DomainId=DEMO_DOMAIN_ID, UserProfileName="alice")

    assert profile["UserProfileArn"] == ALICE_ARN
    assert (profile["UserProfileName"], profile["Status"], profile["DomainId"]) == (
        "alice",
        "InService",
        DEMO_DOMAIN_ID,
    )
    assert isinstance(profile["CreationTime"], datetime)
    assert client.list_tags(ResourceArn=ALICE_ARN)["Tags"] == [{"Key": "studiouserid", "Value": "alice@example.com"}]


@pytest.mark.parametrize(
    ("name", "owner", "status"),
    [
        ("bob", "bob@example.com", "InService"),
        ("john-doe", "john-doe@example.com", "InService"),
        ("pending-pat", "pending.pat@example.com", "Pending"),
    ],
)
def test_seeded_profiles(client, name, owner, status):
    profile = client.describe_user_profile(DomainId=DEMO_DOMAIN_ID, UserProfileName=name)
    tags = client.list_tags(ResourceArn=profile["UserProfileArn"])["Tags"]
    assert profile["Status"] == status
    assert {"Key": "studiouserid", "Value": owner} in tags


def test_pending_seed_profile_stays_pending(client, sim):
    sim.advance_clock(10 * 24 * 3600)
    assert client.describe_user_profile(DomainId=DEMO_DOMAIN_ID, UserProfileName="pending-pat")["Status"] == "Pending"


def test_carol_has_no_profile(client):
    names = [p["UserProfileName"] for p in client.list_user_profiles(DomainIdEquals=DEMO_DOMAIN_ID)["UserProfiles"]]
    assert "carol" not in names
    assert set(names) == {"alice", "bob", "john-doe", "pending-pat"}


# ---- not found -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        ("describe_domain", {"DomainId": "d-nosuchdomain"}),
        ("describe_user_profile", {"DomainId": DEMO_DOMAIN_ID, "UserProfileName": "carol"}),
        ("describe_user_profile", {"DomainId": "d-nosuchdomain", "UserProfileName": "alice"}),
        ("create_presigned_domain_url", {"DomainId": DEMO_DOMAIN_ID, "UserProfileName": "carol"}),
        ("create_presigned_domain_url", {"DomainId": DEMO_DOMAIN_ID, "UserProfileName": "alice", "SpaceName": "nope"}),
        ("describe_space", {"DomainId": DEMO_DOMAIN_ID, "SpaceName": "nope"}),
    ],
)
def test_unknown_resources_are_resource_not_found(client, operation, params):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        getattr(client, operation)(**params)
    code, message, status = error_of(excinfo)
    assert (code, status) == ("ResourceNotFound", 400)
    assert "does not exist" in message


def test_modelled_error_is_the_client_exception_class(client):
    with pytest.raises(client.exceptions.ResourceNotFound):
        client.describe_user_profile(DomainId=DEMO_DOMAIN_ID, UserProfileName="carol")


def test_add_and_delete_tags(client):
    # When
    added = client.add_tags(
        ResourceArn=ALICE_ARN,
        Tags=[{"Key": "team", "Value": "ml"}, {"Key": "studiouserid", "Value": "alice2@example.com"}],
    )
    # Then
    assert added["Tags"] == [{"Key": "team", "Value": "ml"}, {"Key": "studiouserid", "Value": "alice2@example.com"}]
    assert client.list_tags(ResourceArn=ALICE_ARN)["Tags"] == [
        {"Key": "studiouserid", "Value": "alice2@example.com"},
        {"Key": "team", "Value": "ml"},
    ]
    client.delete_tags(ResourceArn=ALICE_ARN, TagKeys=["team"])
    assert [t["Key"] for t in client.list_tags(ResourceArn=ALICE_ARN)["Tags"]] == ["studiouserid"]
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        client.add_tags(ResourceArn=ALICE_ARN.replace("alice", "carol"), Tags=[{"Key": "k", "Value": "v"}])
    assert error_of(excinfo)[0] == "ValidationException"


def test_list_tags_of_unknown_resource_is_a_validation_error(client):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        client.list_tags(ResourceArn=ALICE_ARN.replace("alice", "carol"))
    assert error_of(excinfo)[0] == "ValidationException"


# ---- validation against the service model -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "path", "constraint"),
    [
        ({"UserProfileName": "john.doe"}, "userProfileName", "regular expression pattern"),
        ({"UserProfileName": "john@example.com"}, "userProfileName", "regular expression pattern"),
        ({"UserProfileName": "-alice"}, "userProfileName", "regular expression pattern"),
        ({"UserProfileName": "a" * 64}, "userProfileName", "length less than or equal to 63"),
        ({"DomainId": "d_demo0portal01"}, "domainId", "regular expression pattern"),
        ({"DomainId": "x-demo0portal01"}, "domainId", "regular expression pattern"),
        ({"ExpiresInSeconds": 301}, "expiresInSeconds", "value less than or equal to 300"),
        ({"SessionExpirationDurationInSeconds": 43201}, "sessionExpirationDurationInSeconds", "less than or equal"),
        ({"SpaceName": "my space"}, "spaceName", "regular expression pattern"),
        ({"LandingUri": "studio::" + "x" * 1016}, "landingUri", "length less than or equal to 1023"),
    ],
)
def test_pattern_length_and_range_violations(client, params, path, constraint):
    # Given: values botocore's client-side validator lets through
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        presign(client, **params)

    # Then: AWS's own wording, naming the member
    code, message, status = error_of(excinfo)
    assert (code, status) == ("ValidationException", 400)
    assert re.match(r"\d validation errors? detected: Value ", message)
    assert f"at '{path}' failed to satisfy constraint: Member must" in message
    assert constraint in message


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"ExpiresInSeconds": 4}, "Member must have value greater than or equal to 5"),
        ({"SessionExpirationDurationInSeconds": 1799}, "greater than or equal to 1800"),
        (
            {"UserProfileName": None},
            "Value null at 'userProfileName' failed to satisfy constraint: Member must not be null",
        ),
        ({"UserProfileName": 5}, "Invalid type for parameter UserProfileName"),
        ({"ExpiresInSeconds": 30.5}, "Invalid type for parameter ExpiresInSeconds"),
    ],
)
def test_what_the_client_would_catch_is_caught_by_the_simulator_too(raw_client, params, fragment):
    params = {"DomainId": DEMO_DOMAIN_ID, "UserProfileName": "alice", **params}
    params = {k: v for k, v in params.items() if v is not None}
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        raw_client.create_presigned_domain_url(**params)
    code, message, _ = error_of(excinfo)
    assert code == "ValidationException"
    assert fragment in message


def test_several_violations_are_reported_together(raw_client):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        raw_client.create_presigned_domain_url(DomainId="bad", UserProfileName="a_b", ExpiresInSeconds=1)
    assert error_of(excinfo)[1].startswith("3 validation errors detected: ")


@pytest.mark.parametrize("expires", [5, 300])
@pytest.mark.parametrize("session", [1800, 43200])
def test_range_bounds_are_accepted(client, expires, session):
    assert presign(client, ExpiresInSeconds=expires, SessionExpirationDurationInSeconds=session)


def test_longest_profile_name_is_accepted(client, sim):
    name = "a" + "-b" * 31  # 63 characters
    sim.add_profile(DEMO_DOMAIN_ID, name)
    assert client.describe_user_profile(DomainId=DEMO_DOMAIN_ID, UserProfileName=name)["UserProfileName"] == name


def test_nested_members_are_validated(client):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        client.create_user_profile(
            DomainId=DEMO_DOMAIN_ID, UserProfileName="dave", UserSettings={"ExecutionRole": "not-a-role-arn-at-all"}
        )
    assert "at 'userSettings.executionRole'" in error_of(excinfo)[1]


def test_tag_values_follow_the_unicode_pattern(client):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        client.create_user_profile(
            DomainId=DEMO_DOMAIN_ID, UserProfileName="dave", Tags=[{"Key": "studiouserid", "Value": "<dave>"}]
        )
    assert "at 'tags.1.member.value'" in error_of(excinfo)[1]
    client.create_user_profile(
        DomainId=DEMO_DOMAIN_ID,
        UserProfileName="dave",
        Tags=[{"Key": "studiouserid", "Value": "Zoë Dave+x@example.com"}],
    )


def test_java_unicode_classes_are_translated():
    tag_value = _compiled(service_model().shape_for("TagValue").metadata["pattern"])
    assert tag_value.fullmatch("alice@example.com")
    assert tag_value.fullmatch("Ünïcode 名前 ١٢٣")
    assert not tag_value.fullmatch("a<b")


# ---- CreatePresignedDomainUrl and the simulated Studio -------------------------------------------------------


def test_presigned_url_points_at_the_simulated_studio(client, sim_server):
    url = presign(client)
    assert url.startswith(f"{sim_server.url}/studio/auth?token=")
    assert len(url.split("token=", 1)[1]) >= 43  # 32 random bytes, URL-safe base64


def test_presigned_url_opens_studio_once(client):
    # Given
    url = presign(client, SpaceName="alice-private", LandingUri="app:JupyterLab:lab/tree/work")
    browser = Browser()

    # When
    first = browser.get(url)
    second = browser.get(url)

    # Then
    assert first.status == 200
    assert "<h1>SageMaker Studio (simulated)</h1>" in first.text
    assert '<dd id="studio-profile">alice</dd>' in first.text
    assert f'<dd id="studio-domain">{DEMO_DOMAIN_ID}</dd>' in first.text
    assert '<dd id="studio-space">alice-private</dd>' in first.text
    assert '<dd id="studio-landing">app:JupyterLab:lab/tree/work</dd>' in first.text
    assert first.header("Cache-Control") == "no-store"
    assert second.status == 403
    assert 'id="studio-expired"' in second.text
    assert "<title>Sign in" in second.text


def test_presigned_url_expires(client, sim):
    url = presign(client, ExpiresInSeconds=5)
    sim.advance_clock(5)
    reply = Browser().get(url)
    assert reply.status == 403
    assert 'id="studio-expired"' in reply.text


def test_presigned_url_is_valid_until_it_expires(client, sim):
    url = presign(client, ExpiresInSeconds=5)
    sim.advance_clock(4.9)
    assert Browser().get(url).status == 200


def test_expiry_runs_on_the_wall_clock_by_default():
    sim = SageMakerSim()
    assert abs(sim.now() - time.time()) < 1
    sim.advance_clock(60)
    assert abs(sim.now() - time.time() - 60) < 1


def test_expiry_follows_an_injected_clock(sim_server):
    # Given: a simulator whose clock the test moves
    now = [1_700_000_000.0]
    sim = SageMakerSim(clock=lambda: now[0])
    server = LocalServer(sim).start()
    try:
        url = presign(make_client(server.url), ExpiresInSeconds=5)
        now[0] += 5

        # Then
        with pytest.raises(StudioTokenError) as excinfo:
            sim.redeem(url)
        assert excinfo.value.reason == "expired"
    finally:
        server.stop()


def test_unknown_or_missing_token_is_the_sign_in_dead_end(sim_server):
    browser = Browser()
    for url in (f"{sim_server.url}/studio/auth?token=forged", f"{sim_server.url}/studio/auth"):
        reply = browser.get(url)
        assert reply.status == 403
        assert 'id="studio-expired"' in reply.text


def test_studio_page_escapes_values(client, sim):
    sim.add_profile(DEMO_DOMAIN_ID, "eve")
    url = presign(client, UserProfileName="eve", LandingUri="studio::<script>alert(1)</script>")
    reply = Browser().get(url)
    assert "<script>alert(1)" not in reply.text
    assert "&lt;script&gt;" in reply.text


def test_presign_refuses_a_domain_not_in_iam_mode(client):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        presign(client, DomainId=SSO_DOMAIN_ID)
    code, message, _ = error_of(excinfo)
    assert code == "ValidationException"
    assert "IAM" in message


def test_presign_into_someone_elses_private_space_is_refused(client):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        presign(client, SpaceName="bob-code")
    assert error_of(excinfo)[0] == "ValidationException"


def test_presign_into_a_shared_space_is_allowed(client, sim):
    presign(client, SpaceName="team-shared")
    assert sim.minted()[-1] == ("alice", DEMO_DOMAIN_ID, "team-shared", None)


@pytest.mark.parametrize(
    "landing",
    [
        "studio::",
        "studio::projects",
        "app:JupyterServer:",
        "app:JupyterLab:lab/tree/x.ipynb",
        "app:CodeEditor:",
        "app:RStudioServerPro:",
        "app:Canvas:",
    ],
)
def test_landing_uri_forms_are_accepted(client, landing):
    assert presign(client, LandingUri=landing)


@pytest.mark.parametrize("landing", ["jupyterlab", "app:Notebook:", "https://example.com/", "studio:x"])
def test_unknown_landing_uri_forms_are_refused(client, landing):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        presign(client, LandingUri=landing)
    assert error_of(excinfo)[0] == "ValidationException"


def test_minted_lists_what_was_issued_without_tokens(client, sim):
    url = presign(client, SpaceName="alice-private", LandingUri="studio::")
    token = url.split("token=", 1)[1]
    assert sim.minted() == [("alice", DEMO_DOMAIN_ID, "alice-private", "studio::")]
    assert sim.minted()[0].space == "alice-private"
    assert token not in repr(sim.minted()) + repr(sim.calls) + json.dumps(sim.state())


def test_redeem_returns_the_session_then_refuses_reuse(client, sim):
    url = presign(client, SessionExpirationDurationInSeconds=3600)
    session = sim.redeem(url)
    assert (session.profile, session.domain, session.space, session.landing) == ("alice", DEMO_DOMAIN_ID, None, None)
    assert session.session_expiration_seconds == 3600
    with pytest.raises(StudioTokenError) as excinfo:
        sim.redeem(url)
    assert excinfo.value.reason == "used"
    with pytest.raises(StudioTokenError):
        sim.redeem("http://127.0.0.1/studio/auth?token=nope")


def test_default_lifetimes(client, sim):
    url = presign(client)
    sim.advance_clock(299)
    assert sim.redeem(url).session_expiration_seconds == 43200


def test_concurrent_presigns_get_distinct_tokens(sim_server, sim):
    urls: list[str] = []

    def work():
        client = make_client(sim_server.url)
        for _ in range(5):
            urls.append(presign(client))

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(urls)) == 30
    assert len(sim.minted()) == 30


# ---- CreateUserProfile ------------------------------------------------------------------------------


def test_created_profile_is_pending_then_in_service(client, sim):
    # Given
    sim.pending_seconds = 20

    # When
    arn = client.create_user_profile(
        DomainId=DEMO_DOMAIN_ID,
        UserProfileName="carol",
        Tags=[{"Key": "studiouserid", "Value": "carol@example.com"}],
        UserSettings={
            "ExecutionRole": "arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-ExecutionRole-demo"
        },
    )["UserProfileArn"]

    # Then
    assert arn == ALICE_ARN.replace("alice", "carol")
    described = client.describe_user_profile(DomainId=DEMO_DOMAIN_ID, UserProfileName="carol")
    assert described["Status"] == "Pending"
    assert described["UserSettings"]["ExecutionRole"].endswith("ExecutionRole-demo")
    assert client.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "studiouserid", "Value": "carol@example.com"}]
    sim.advance_clock(19)
    assert client.describe_user_profile(DomainId=DEMO_DOMAIN_ID, UserProfileName="carol")["Status"] == "Pending"
    sim.advance_clock(1)
    assert client.describe_user_profile(DomainId=DEMO_DOMAIN_ID, UserProfileName="carol")["Status"] == "InService"


def test_create_existing_profile_is_resource_in_use(client):
    with pytest.raises(client.exceptions.ResourceInUse):
        client.create_user_profile(DomainId=DEMO_DOMAIN_ID, UserProfileName="alice")


def test_create_profile_in_unknown_domain_is_not_found(client):
    with pytest.raises(client.exceptions.ResourceNotFound):
        client.create_user_profile(DomainId="d-nosuchdomain", UserProfileName="carol")


# ---- List* ------------------------------------------------------------------------------------------


def test_list_spaces_reports_ownership_sharing_and_app(client):
    spaces = {s["SpaceName"]: s for s in client.list_spaces(DomainIdEquals=DEMO_DOMAIN_ID)["Spaces"]}

    assert set(spaces) == {"alice-private", "team-shared", "bob-code"}
    summary = {
        name: (
            s["OwnershipSettingsSummary"]["OwnerUserProfileName"],
            s["SpaceSharingSettingsSummary"]["SharingType"],
            s["SpaceSettingsSummary"]["AppType"],
            s["Status"],
        )
        for name, s in spaces.items()
    }
    assert summary == {
        "alice-private": ("alice", "Private", "JupyterLab", "InService"),
        "team-shared": ("bob", "Shared", "JupyterLab", "InService"),
        "bob-code": ("bob", "Private", "CodeEditor", "InService"),
    }


def test_list_spaces_of_another_domain_is_empty(client):
    assert client.list_spaces(DomainIdEquals=SSO_DOMAIN_ID)["Spaces"] == []


def test_lists_paginate(client, sim):
    sim.page_size = 1

    first = client.list_spaces(DomainIdEquals=DEMO_DOMAIN_ID)
    spaces = [
        s["SpaceName"]
        for page in client.get_paginator("list_spaces").paginate(DomainIdEquals=DEMO_DOMAIN_ID)
        for s in page["Spaces"]
    ]
    profiles = [
        p["UserProfileName"]
        for page in client.get_paginator("list_user_profiles").paginate(DomainIdEquals=DEMO_DOMAIN_ID)
        for p in page["UserProfiles"]
    ]

    assert len(first["Spaces"]) == 1 and first["NextToken"]
    assert spaces == ["alice-private", "team-shared", "bob-code"]
    assert profiles == ["alice", "bob", "john-doe", "pending-pat"]


def test_list_tags_paginates(client, sim):
    sim.add_profile(DEMO_DOMAIN_ID, "tagged", tags={f"k{i}": str(i) for i in range(60)})
    arn = ALICE_ARN.replace("alice", "tagged")
    page = client.list_tags(ResourceArn=arn)
    rest = client.list_tags(ResourceArn=arn, NextToken=page["NextToken"])
    assert len(page["Tags"]) == 50
    assert len(rest["Tags"]) == 10 and "NextToken" not in rest


def test_default_page_size_of_list_spaces_is_ten(client, sim):
    for i in range(12):
        sim.add_space(DEMO_DOMAIN_ID, f"extra-{i}", owner="alice", sharing="Shared")
    page = client.list_spaces(DomainIdEquals=DEMO_DOMAIN_ID)
    assert len(page["Spaces"]) == 10 and page["NextToken"]


def test_forged_next_token_is_refused(client):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        client.list_spaces(NextToken="not-a-token")
    assert error_of(excinfo)[0] == "ValidationException"


def test_list_sorting(client):
    descending = client.list_user_profiles(DomainIdEquals=DEMO_DOMAIN_ID, SortOrder="Descending")["UserProfiles"]
    assert [p["UserProfileName"] for p in descending] == ["pending-pat", "john-doe", "bob", "alice"]
    contains = client.list_user_profiles(UserProfileNameContains="bo")["UserProfiles"]
    assert {(p["DomainId"], p["UserProfileName"]) for p in contains} == {
        (DEMO_DOMAIN_ID, "bob"),
        (SSO_DOMAIN_ID, "bob"),
    }


def test_responses_conform_to_the_output_shapes(client, sim):
    # Given: one response of each operation, parsed by boto3
    model = service_model()
    responses = {
        "DescribeDomain": client.describe_domain(DomainId=DEMO_DOMAIN_ID),
        "DescribeUserProfile": client.describe_user_profile(DomainId=DEMO_DOMAIN_ID, UserProfileName="alice"),
        "ListTags": client.list_tags(ResourceArn=ALICE_ARN),
        "ListUserProfiles": client.list_user_profiles(),
        "ListSpaces": client.list_spaces(),
        "DescribeSpace": client.describe_space(DomainId=DEMO_DOMAIN_ID, SpaceName="team-shared"),
        "CreateUserProfile": client.create_user_profile(DomainId=DEMO_DOMAIN_ID, UserProfileName="new"),
        "CreatePresignedDomainUrl": client.create_presigned_domain_url(DomainId=DEMO_DOMAIN_ID, UserProfileName="bob"),
        "AddTags": client.add_tags(ResourceArn=ALICE_ARN, Tags=[{"Key": "team", "Value": "ml"}]),
        "DeleteTags": client.delete_tags(ResourceArn=ALICE_ARN, TagKeys=["team"]),
        "ListApps": client.list_apps(DomainIdEquals=DEMO_DOMAIN_ID),
        "DescribeApp": client.describe_app(DomainId=DEMO_DOMAIN_ID, SpaceName="alice-private",
                                           AppType="JupyterLab", AppName="default"),
        "DeleteApp": client.delete_app(DomainId=DEMO_DOMAIN_ID, SpaceName="alice-private", AppType="JupyterLab",
                                       AppName="default"),
    }

    # Then
    for operation, response in responses.items():
        response.pop("ResponseMetadata")
        shape = model.operation_model(operation).output_shape
        if shape is None:  # DeleteApp answers nothing
            assert response == {}, operation
            continue
        report = ParamValidator().validate(response, shape)
        assert not report.has_errors(), (operation, report.generate_report())
        assert constraint_errors(shape, response) == [], operation


# ---- apps ---------------------------------------------------------------------------------------------


def running(client, **filters) -> list[tuple[str | None, str | None, str, str, str]]:
    apps = client.list_apps(DomainIdEquals=DEMO_DOMAIN_ID, **filters)["Apps"]
    return [(a.get("UserProfileName"), a.get("SpaceName"), a["AppType"], a["AppName"], a["Status"]) for a in apps]


def test_seeded_apps_run_in_spaces_and_on_profiles(client):
    assert running(client, SpaceNameEquals="alice-private") == [(None, "alice-private", "JupyterLab", "default",
                                                                 "InService")]
    assert running(client, UserProfileNameEquals="alice") == [("alice", None, "Canvas", "default", "InService")]
    assert ("bob", None) not in [(p, s) for p, s, *_ in running(client)]


def test_delete_app_marks_it_deleted_and_it_stays_listed(client):
    # When
    client.delete_app(DomainId=DEMO_DOMAIN_ID, SpaceName="alice-private", AppType="JupyterLab", AppName="default")

    # Then: only that app changed
    assert running(client, SpaceNameEquals="alice-private") == [(None, "alice-private", "JupyterLab", "default",
                                                                 "Deleted")]
    assert running(client, SpaceNameEquals="team-shared")[0][-1] == "InService"
    with pytest.raises(client.exceptions.ResourceNotFound):
        client.delete_app(DomainId=DEMO_DOMAIN_ID, SpaceName="alice-private", AppType="JupyterLab",
                          AppName="default")


def test_delete_app_needs_exactly_one_owner_and_an_existing_app(client):
    with pytest.raises(botocore.exceptions.ClientError) as both:
        client.delete_app(DomainId=DEMO_DOMAIN_ID, UserProfileName="alice", SpaceName="alice-private",
                          AppType="JupyterLab", AppName="default")
    with pytest.raises(client.exceptions.ResourceNotFound):
        client.delete_app(DomainId=DEMO_DOMAIN_ID, UserProfileName="alice", AppType="JupyterLab", AppName="default")
    with pytest.raises(botocore.exceptions.ClientError) as filters:
        client.list_apps(UserProfileNameEquals="alice", SpaceNameEquals="alice-private")
    assert error_of(both)[0] == error_of(filters)[0] == "ValidationException"


def test_list_apps_paginates(client, sim):
    sim.page_size = 2
    pages = list(client.get_paginator("list_apps").paginate(DomainIdEquals=DEMO_DOMAIN_ID))
    assert [len(page["Apps"]) for page in pages] == [2, 2]


def test_add_app_refuses_what_the_service_would_never_hold(sim):
    with pytest.raises(ValueError):
        sim.add_app(DEMO_DOMAIN_ID, "JupyterLab", profile="alice", space="alice-private")
    with pytest.raises(KeyError):
        sim.add_app(DEMO_DOMAIN_ID, "JupyterLab", space="no-such-space")
    with pytest.raises(ValueError):
        sim.add_app(DEMO_DOMAIN_ID, "Notebook", profile="alice")


def test_deny_presign_tag_stands_in_for_the_iam_deny(client, sim):
    # Given: the deployed roles' Deny on profiles tagged studioportal:revoked
    sim.deny_presign_tag = "studioportal:revoked"
    presign(client)
    client.add_tags(ResourceArn=ALICE_ARN, Tags=[{"Key": "studioportal:revoked", "Value": "x"}])

    # When / Then
    with pytest.raises(botocore.exceptions.ClientError) as denied:
        presign(client)
    code, message, status = error_of(denied)
    assert (code, status) == ("AccessDeniedException", 400) and "explicit deny" in message
    presign(client, UserProfileName="bob")  # nobody else's


# ---- faults -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ThrottlingException", 400),
        ("InternalFailure", 500),
        ("AccessDeniedException", 400),
        ("ValidationException", 400),
        ("ServiceUnavailable", 503),
    ],
)
def test_injected_errors(client, sim, code, status):
    sim.inject("DescribeUserProfile", code)
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        client.describe_user_profile(DomainId=DEMO_DOMAIN_ID, UserProfileName="alice")
    assert error_of(excinfo)[0::2] == (code, status)
    # Only the next call fails
    assert client.describe_user_profile(DomainId=DEMO_DOMAIN_ID, UserProfileName="alice")["Status"] == "InService"


def test_injected_error_with_explicit_status_and_message(client, sim):
    sim.inject("ListTags", "SomethingOdd", http_status=418, message="teapot")
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        client.list_tags(ResourceArn=ALICE_ARN)
    assert error_of(excinfo) == ("SomethingOdd", "teapot", 418)


def test_injected_faults_count_down_and_only_hit_their_operation(client, sim):
    sim.inject("CreatePresignedDomainUrl", "ThrottlingException", times=2)
    client.describe_domain(DomainId=DEMO_DOMAIN_ID)
    for _ in range(2):
        with pytest.raises(botocore.exceptions.ClientError):
            presign(client)
    assert presign(client)


def test_boto3_retries_through_a_transient_throttle(sim_server, sim):
    client = make_client(sim_server.url, retries={"mode": "standard", "total_max_attempts": 3})
    sim.inject("CreatePresignedDomainUrl", "ThrottlingException", times=1)
    assert presign(client)
    assert [c.operation for c in sim.calls] == ["CreatePresignedDomainUrl"] * 2


def test_injected_delay_then_normal_answer(client, sim):
    sim.inject("DescribeDomain", delay_seconds=0.3)
    started = time.monotonic()
    assert client.describe_domain(DomainId=DEMO_DOMAIN_ID)["AuthMode"] == "IAM"
    assert time.monotonic() - started >= 0.3


def test_injected_hang_times_the_client_out_and_reset_releases_it(sim_server, sim):
    client = make_client(sim_server.url, read_timeout=0.3)
    sim.inject("*", delay_seconds=30)
    started = time.monotonic()
    with pytest.raises(botocore.exceptions.ReadTimeoutError):
        client.describe_domain(DomainId=DEMO_DOMAIN_ID)
    sim.reset()
    assert time.monotonic() - started < 5


def test_delays_still_apply_after_close(client, sim):
    sim.close()
    sim.inject("DescribeDomain", delay_seconds=0.2)
    started = time.monotonic()
    client.describe_domain(DomainId=DEMO_DOMAIN_ID)
    assert time.monotonic() - started >= 0.2


def test_inject_needs_an_error_or_a_delay(sim):
    with pytest.raises(ValueError):
        sim.inject("DescribeDomain")


# ---- protocol edges -------------------------------------------------------------------------------------


def raw_post(url: str, target: str | None, body: bytes, *, signed: str | None = "us-east-1/sagemaker"):
    headers = [("Content-Type", "application/x-amz-json-1.1")]
    if target:
        headers.append(("X-Amz-Target", target))
    if signed:
        headers.append(
            ("Authorization", f"AWS4-HMAC-SHA256 Credential=AKIA/20250101/{signed}/aws4_request, Signature=x")
        )
    reply = Browser().request("POST", url, headers=headers, body=body)
    return reply.status, dict(reply.headers), json.loads(reply.body)


def test_unknown_members_are_refused(sim_server):
    body = json.dumps({"DomainId": DEMO_DOMAIN_ID, "Unexpected": 1}).encode()
    status, _, payload = raw_post(sim_server.url + "/", "SageMaker.DescribeDomain", body)
    assert (status, payload["__type"]) == (400, "ValidationException")
    assert "Unknown parameter in input" in payload["message"]


def test_hooks_refuse_data_the_service_would_never_hold(sim):
    with pytest.raises(ValueError, match=r"UserProfileName"):
        sim.add_profile(DEMO_DOMAIN_ID, "john.doe")
    with pytest.raises(ValueError):
        sim.add_space(DEMO_DOMAIN_ID, "x", sharing="Public")
    with pytest.raises(ValueError):
        sim.add_domain("d-x", auth_mode="SAML")


@pytest.mark.parametrize(
    ("target", "body", "signed", "code"),
    [
        ("SageMaker.NoSuchThing", b"{}", "us-east-1/sagemaker", "UnknownOperationException"),
        ("Other.DescribeDomain", b"{}", "us-east-1/sagemaker", "UnknownOperationException"),
        (None, b"{}", "us-east-1/sagemaker", "UnknownOperationException"),
        (
            "SageMaker.DeleteDomain",
            b'{"DomainId": "d-demo0portal01"}',
            "us-east-1/sagemaker",
            "UnknownOperationException",
        ),
        ("SageMaker.DescribeDomain", b"{not json", "us-east-1/sagemaker", "SerializationException"),
        ("SageMaker.DescribeDomain", b"[]", "us-east-1/sagemaker", "SerializationException"),
        ("SageMaker.DescribeDomain", b"{}", None, "MissingAuthenticationTokenException"),
        ("SageMaker.DescribeDomain", b"{}", "eu-west-1/sagemaker", "InvalidSignatureException"),
        ("SageMaker.DescribeDomain", b"{}", "us-east-1/sts", "InvalidSignatureException"),
    ],
)
def test_protocol_errors(sim_server, target, body, signed, code):
    status, headers, payload = raw_post(sim_server.url + "/", target, body, signed=signed)
    assert status == 400
    assert payload["__type"] == code
    assert headers["x-amzn-ErrorType"] == code
    assert headers["Content-Type"] == "application/x-amz-json-1.1"


def test_calls_are_recorded_and_clearable(client, sim):
    presign(client, ExpiresInSeconds=30)
    assert sim.calls == [
        ("CreatePresignedDomainUrl", {"DomainId": DEMO_DOMAIN_ID, "UserProfileName": "alice", "ExpiresInSeconds": 30})
    ]
    assert sim.calls_to("CreatePresignedDomainUrl")[0]["ExpiresInSeconds"] == 30
    sim.calls.clear()
    assert sim.calls == []


def test_reset_restores_the_seed(client, sim):
    sim.remove_profile(DEMO_DOMAIN_ID, "alice")
    sim.inject("DescribeDomain", "ThrottlingException", times=5)
    presign(client, UserProfileName="bob")
    sim.reset()
    assert sim.minted() == [] and sim.calls == []
    assert client.describe_domain(DomainId=DEMO_DOMAIN_ID)
    assert client.describe_user_profile(DomainId=DEMO_DOMAIN_ID, UserProfileName="alice")


def test_unseeded_simulator_is_empty(sim_server):
    sim = SageMakerSim(seed=False)
    assert sim.state() == {"domains": [], "profiles": [], "spaces": [], "apps": []}


# ---- the same hooks over HTTP ---------------------------------------------------------------------------


def hook(url: str, name: str, body: dict | None = None, method: str = "POST", content_type="application/json"):
    if method == "POST":
        reply = Browser().request(
            method, f"{url}/_sim/{name}", headers=[("Content-Type", content_type)], body=json.dumps(body or {})
        )
    else:
        reply = Browser().request(method, f"{url}/_sim/{name}")
    return reply.status, json.loads(reply.body)


def test_http_hooks(client, sim_server, sim):
    url = sim_server.url
    # Data
    assert hook(url, "add_domain", {"domain_id": "d-extra0001", "auth_mode": "IAM", "name": "Extra"})[0] == 200
    assert (
        hook(url, "add_profile", {"domain_id": "d-extra0001", "name": "zed", "tags": {"studiouserid": "zed@x.io"}})[0]
        == 200
    )
    assert hook(url, "add_space", {"domain_id": "d-extra0001", "name": "zed-lab", "owner": "zed"})[0] == 200
    assert hook(url, "add_app", {"domain_id": "d-extra0001", "app_type": "JupyterLab", "space": "zed-lab"})[0] == 200
    assert client.list_apps(DomainIdEquals="d-extra0001")["Apps"][0]["SpaceName"] == "zed-lab"
    assert client.describe_user_profile(DomainId="d-extra0001", UserProfileName="zed")["Status"] == "InService"
    # Faults
    assert hook(url, "inject", {"operation": "DescribeDomain", "error_code": "AccessDeniedException"})[0] == 200
    with pytest.raises(botocore.exceptions.ClientError):
        client.describe_domain(DomainId="d-extra0001")
    # Calls, minted, redeem
    authorized = presign(client, DomainId="d-extra0001", UserProfileName="zed", SpaceName="zed-lab")
    status, calls = hook(url, "calls", method="GET")
    assert [c["operation"] for c in calls["calls"]][-1] == "CreatePresignedDomainUrl"
    assert hook(url, "minted", method="GET")[1]["minted"] == [
        {"profile": "zed", "domain": "d-extra0001", "space": "zed-lab", "landing": None}
    ]
    status, session = hook(url, "redeem", {"url": authorized})
    assert (status, session["profile"]) == (200, "zed")
    assert hook(url, "redeem", {"url": authorized}) == (403, {"error": "used"})
    # Clock and config
    assert hook(url, "config", {"pending_seconds": 1})[0] == 200
    client.create_user_profile(DomainId="d-extra0001", UserProfileName="yan")
    assert hook(url, "advance_clock", {"seconds": 1})[0] == 200
    assert client.describe_user_profile(DomainId="d-extra0001", UserProfileName="yan")["Status"] == "InService"
    # Reset
    assert hook(url, "calls", method="DELETE")[0] == 200
    assert hook(url, "calls", method="GET")[1] == {"calls": []}
    assert hook(url, "reset")[0] == 200
    assert "d-extra0001" not in [d["DomainId"] for d in hook(url, "state", method="GET")[1]["domains"]]


def test_http_hooks_refuse_bad_requests(sim_server):
    url = sim_server.url
    assert hook(url, "reset", content_type="text/plain")[0] == 415  # no cross-site form posts
    assert hook(url, "inject", {"operation": "X", "bogus": 1})[0] == 400
    assert hook(url, "add_profile", {"domain_id": "d-nosuchdomain", "name": "x"})[0] == 400
    assert hook(url, "nope")[0] == 404


def test_the_hooks_table_of_docs_local_names_every_hook_with_its_real_parameters():
    import inspect
    import re as regex
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[2] / "docs" / "local.md").read_text()
    table = docs[docs.index("| hook | what it does |"):].split("\n\n", 1)[0]
    documented = regex.findall(r"`([a-z_]+)\(([^)`]*)\)`", table)
    assert len(documented) >= 15
    for name, params in documented:
        signature = inspect.signature(getattr(SageMakerSim, name))
        real = [p for p in signature.parameters.values() if p.name != "self"]
        written = [part.strip().split("=")[0] for part in params.split(",") if part.strip() and part.strip() != "*"]
        assert written == [p.name for p in real], (name, written, [p.name for p in real])
    # every hook the HTTP front end serves is in the table
    served = set(regex.findall(r'"([a-z_]+)": self\.[a-z_]+,', inspect.getsource(SageMakerSim._hook)))
    assert served - {"config"} <= {name for name, _ in documented}, served


# ---- open Studio sessions --------------------------------------------------------------------------------


def open_studio(client, sim_server, **params) -> Browser:
    """A browser that opened Studio through a presigned URL (the session cookie the simulator sets)."""
    browser = Browser()
    landing = browser.get(presign(client, **params))
    assert landing.status == 200 and "sim-studio-session" in browser.cookies
    return browser


def test_an_open_session_keeps_working_until_it_expires(client, sim_server, sim):
    browser = open_studio(client, sim_server, SessionExpirationDurationInSeconds=1800)
    assert browser.get(sim_server.url + "/studio/app").status == 200
    sim.advance_clock(1800)
    expired = browser.get(sim_server.url + "/studio/app")
    assert expired.status == 403 and 'id="studio-expired"' in expired.text
    assert Browser().get(sim_server.url + "/studio/app").status == 403  # no session at all


def test_with_the_iam_deny_a_revoked_profiles_open_session_stops_at_its_next_request(client, sim_server, sim):
    # Given the deployed roles' Deny, and Studio sessions open for alice and bob
    sim.deny_presign_tag = "studioportal:revoked"
    alice, bob = open_studio(client, sim_server), open_studio(client, sim_server, UserProfileName="bob")
    # When alice's profile is revoked
    client.add_tags(ResourceArn=ALICE_ARN, Tags=[{"Key": "studioportal:revoked", "Value": "x"}])
    # Then her next request is refused, bob's is not
    denied = alice.get(sim_server.url + "/studio/app")
    assert denied.status == 403 and 'id="studio-denied"' in denied.text
    assert bob.get(sim_server.url + "/studio/app").status == 200
    # And once the tag is gone her session works again (IAM is evaluated per request, nothing is remembered)
    client.delete_tags(ResourceArn=ALICE_ARN, TagKeys=["studioportal:revoked"])
    assert alice.get(sim_server.url + "/studio/app").status == 200


def test_without_the_deny_the_simulator_does_not_end_sessions(client, sim_server, sim):
    alice = open_studio(client, sim_server)
    client.add_tags(ResourceArn=ALICE_ARN, Tags=[{"Key": "studioportal:revoked", "Value": "x"}])
    assert alice.get(sim_server.url + "/studio/app").status == 200
