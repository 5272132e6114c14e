"""The revocation record (portal.revocation) and how launches and the chooser read it (portal.launch)."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from portal.aws import AwsThrottling
from portal.errors import AwsRefused, ProfileNotFound, ProfileNotOwned, ProfileRevoked
from portal.launch import Launcher
from portal.revocation import REVOKED_TAG, Revocation, parse, record, withdraws
from tests.unit.test_launch import ARN, DOMAIN, POLICY, TARGET, expect_presign, gateway, person, sagemaker, session

__all__ = ["gateway", "sagemaker", "session"]  # fixtures
WHEN = datetime(2026, 12, 1, 8, 44, 20, tzinfo=UTC)


def expect_tags(stubber, tags: dict[str, str], name: str = "alice") -> None:
    stubber.add_response("describe_user_profile", {"UserProfileArn": ARN.replace("alice", name), "Status": "InService"},
                         {"DomainId": DOMAIN, "UserProfileName": name})
    stubber.add_response("list_tags", {"Tags": [{"Key": key, "Value": value} for key, value in tags.items()]},
                         {"ResourceArn": ARN.replace("alice", name), "MaxResults": 100})


# -- the record -------------------------------------------------------------------------------------------
def test_record_says_when_in_utc_and_whose():
    # Given a time in another zone
    local = WHEN.astimezone(timezone(timedelta(hours=2)))
    # Then the record is in UTC and reads back exactly
    assert record("alice@example.com", local) == "2026-12-01T08:44:20Z alice@example.com"
    assert parse(record("Ann Müller+ml@x.io", WHEN)) == Revocation("2026-12-01T08:44:20Z", "Ann Müller+ml@x.io")


def test_an_owner_too_long_for_a_tag_value_leaves_the_time_alone():
    owner = "a" * 236  # 21 characters of time and space: 257 in all
    assert record(owner, WHEN) == "2026-12-01T08:44:20Z"
    assert parse(record(owner, WHEN)) == Revocation("2026-12-01T08:44:20Z", None)
    assert len(record("a" * 235, WHEN)) == 256


@pytest.mark.parametrize("value", ["yes", "", "2026-12-01 alice"])
def test_a_hand_made_value_still_revokes_but_names_no_one(value):
    assert parse(value) == Revocation("", None)
    assert parse(None) is None


def test_the_record_is_compared_exactly():
    revoked = parse(record("alice@example.com", WHEN))
    assert revoked.names("alice@example.com")
    assert not revoked.names("alice@example.co") and not revoked.names("Alice@example.com")
    assert not revoked.names("alice@example.com ")


@pytest.mark.parametrize(("tags", "expected"), [
    ({REVOKED_TAG: "2026-12-01T08:44:20Z alice@example.com"}, True),
    ({REVOKED_TAG: "2026-12-01T08:44:20Z bob@example.com"}, False),
    ({REVOKED_TAG: "yes", "studiouserid": "alice@example.com"}, True),  # set by hand on her own profile
    ({REVOKED_TAG: "yes", "studiouserid": "bob@example.com"}, False),
    ({REVOKED_TAG: "yes"}, False),
    ({"studiouserid": "alice@example.com"}, False),
])
def test_which_tags_withdraw_access(tags, expected):
    assert withdraws(tags, "studiouserid", "alice@example.com") is expected


# -- launches --------------------------------------------------------------------------------------------
def test_a_revoked_profile_gets_the_withdrawn_page_not_not_yours(gateway, sagemaker):
    _, stubber = sagemaker
    expect_tags(stubber, {REVOKED_TAG: record("alice@example.com", WHEN), "team": "ml"})
    with pytest.raises(ProfileRevoked) as refused:
        Launcher(gateway, POLICY).launch(person("alice@example.com"), TARGET)
    assert refused.value.status == 403 and refused.value.page == "error_revoked.html"
    assert refused.value.page_context["profile"] == "alice"


def test_someone_else_mapped_to_a_revoked_profile_is_told_it_is_not_theirs(gateway, sagemaker):
    _, stubber = sagemaker
    expect_tags(stubber, {REVOKED_TAG: record("john-doe@example.com", WHEN)}, name="john-doe")
    with pytest.raises(ProfileNotOwned):
        Launcher(gateway, POLICY).launch(person("john.doe@example.com"), TARGET)


def test_a_presign_denied_after_a_cached_check_looks_again_and_says_withdrawn(gateway, sagemaker):
    # Given a warm container that checked alice's profile a moment ago
    _, stubber = sagemaker
    launcher = Launcher(gateway, POLICY)
    expect_tags(stubber, {"studiouserid": "alice@example.com"})
    expect_presign(stubber)
    launcher.launch(person("alice@example.com"), TARGET)
    # When she is revoked: IAM's Deny refuses the presign, and the tags now carry the record
    stubber.add_client_error("create_presigned_domain_url", "AccessDeniedException", "explicit deny")
    expect_tags(stubber, {REVOKED_TAG: record("alice@example.com", WHEN)})
    # Then she sees the withdrawn page, not a generic refusal
    with pytest.raises(ProfileRevoked):
        launcher.launch(person("alice@example.com"), TARGET)


def test_a_presign_denied_for_another_reason_stays_a_refusal(gateway, sagemaker):
    _, stubber = sagemaker
    launcher = Launcher(gateway, POLICY)
    expect_tags(stubber, {"studiouserid": "alice@example.com"})
    stubber.add_client_error("create_presigned_domain_url", "AccessDeniedException", "not from this network")
    expect_tags(stubber, {"studiouserid": "alice@example.com"})
    with pytest.raises(AwsRefused):
        launcher.launch(person("alice@example.com"), TARGET)


# -- the chooser ------------------------------------------------------------------------------------------
def test_the_chooser_reads_the_tags_unless_ownership_is_cached(gateway, sagemaker):
    _, stubber = sagemaker
    launcher = Launcher(gateway, POLICY)
    expect_tags(stubber, {REVOKED_TAG: record("alice@example.com", WHEN)})
    with pytest.raises(ProfileRevoked):
        launcher.owned_spaces(person("alice@example.com"), TARGET, "alice")
    expect_tags(stubber, {"studiouserid": "alice@example.com"})
    stubber.add_response("list_spaces", {"Spaces": []})
    assert launcher.owned_spaces(person("alice@example.com"), TARGET, "alice") == []
    # The chooser's check serves the next launch, which then makes one call
    expect_presign(stubber)
    launcher.launch(person("alice@example.com"), TARGET)
    # And a launch's check serves the chooser, which trusts it as launches do (only ListSpaces stubbed)
    launcher = Launcher(gateway, POLICY)
    expect_tags(stubber, {"studiouserid": "alice@example.com"})
    expect_presign(stubber)
    launcher.launch(person("alice@example.com"), TARGET)
    stubber.add_response("list_spaces", {"Spaces": []})
    assert launcher.owned_spaces(person("alice@example.com"), TARGET, "alice") == []


def test_the_chooser_leaves_failures_to_the_launch_page(gateway, sagemaker):
    _, stubber = sagemaker
    stubber.add_client_error("describe_user_profile", "ResourceNotFound", "no such profile")
    stubber.add_client_error("describe_user_profile", "ThrottlingException", "slow down", http_status_code=400)
    launcher = Launcher(gateway, POLICY)
    with pytest.raises(ProfileNotFound):
        launcher.owned_spaces(person("alice@example.com"), TARGET, "alice")
    with pytest.raises(AwsThrottling):
        launcher.owned_spaces(person("alice@example.com"), TARGET, "alice")
