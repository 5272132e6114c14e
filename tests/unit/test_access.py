"""revoke, restore and who (portal.access) against an in-memory AdminGateway: what each does with unusual
tags, and that a failed step is reported while the others still run."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from portal.access import Access
from portal.admin_aws import App, CognitoUserNotFound
from portal.aws import AwsConflict, AwsNotFound, Space, UserProfile
from portal.errors import AwsRefused, IdentityUnusable
from portal.revocation import REVOKED_TAG
from portal.targets import Target

DOMAIN = "d-abc123"
TARGET = Target(id="studio", label="Studio", domain_id=DOMAIN, profile="{email}")
WHEN = datetime(2026, 12, 1, 8, 44, 20, tzinfo=UTC)
RECORD = "2026-12-01T08:44:20Z alice@example.com"


class FakeAdminGateway:
    """The calls Access makes, on profiles held in memory; `fail` maps a method name to the error it raises."""

    def __init__(self, profiles: dict[str, dict[str, str]], apps: list[App] | None = None,
                 spaces: list[Space] | None = None):
        self.profiles = profiles
        self.apps = apps or []
        self.spaces = spaces or []
        self.fail: dict[str, Exception] = {}
        self.done: list[tuple[str, Any]] = []

    def _maybe_fail(self, name: str) -> None:
        if name in self.fail:
            raise self.fail[name]

    def sagemaker(self, region=None, role_arn=None, **_: Any) -> str:
        assert role_arn is None  # the operator's own credentials, never a presigning role
        return "client"

    def list_user_profiles(self, client, domain_id):
        self._maybe_fail("list_user_profiles")
        return sorted(self.profiles)

    def describe_user_profile(self, client, domain_id, name):
        self._maybe_fail("describe_user_profile")
        if name not in self.profiles:
            raise AwsNotFound("DescribeUserProfile")
        return UserProfile(arn=f"arn:{name}", status="InService")

    def list_tags(self, client, arn):
        return dict(self.profiles[arn.removeprefix("arn:")])

    def add_tags(self, client, arn, tags):
        self._maybe_fail("add_tags")
        self.profiles[arn.removeprefix("arn:")].update(tags)
        self.done.append(("add_tags", tags))

    def delete_tags(self, client, arn, keys):
        self._maybe_fail("delete_tags")
        for key in keys:
            self.profiles[arn.removeprefix("arn:")].pop(key, None)
        self.done.append(("delete_tags", keys))

    def list_spaces(self, client, domain_id):
        return self.spaces

    def list_apps(self, client, domain_id, *, profile=None, space=None):
        self._maybe_fail("list_apps")
        return [app for app in self.apps if (profile and app.profile == profile and not app.space)
                or (space and app.space == space)]

    def delete_app(self, client, domain_id, app):
        self._maybe_fail("delete_app")
        self.done.append(("delete_app", app))

    def cognito_username(self, pool, claim, identity):
        self._maybe_fail("cognito_username")
        return "u-alice"


def access(gateway: FakeAdminGateway) -> Access:
    return Access(gateway, "studiouserid", "email", clock=lambda: WHEN)  # type: ignore[arg-type]


def lines(reports) -> list[str]:
    return [line for report in reports for line in report.lines]


# -- revoke ----------------------------------------------------------------------------------------------
def test_revoke_records_who_and_when_then_removes_the_owner_tag_then_stops_apps():
    apps = [App("Canvas", "default", "InService", None, "alice"),
            App("JupyterLab", "default", "InService", "alice-lab", "alice"),
            App("JupyterLab", "default", "InService", "shared", None),
            App("JupyterLab", "old", "Deleted", "alice-lab", None)]
    spaces = [Space("alice-lab", "alice", False, "JupyterLab", "InService"),
              Space("shared", "alice", True, "JupyterLab", "InService")]
    gateway = FakeAdminGateway({"alice": {"studiouserid": "alice@example.com", "team": "ml"}}, apps, spaces)
    (report,) = access(gateway).revoke([TARGET], "alice@example.com", scan=False, apply=True)
    assert not report.failed
    assert gateway.profiles["alice"] == {"team": "ml", REVOKED_TAG: RECORD}
    # The record first: the Deny holds before anything else changes
    assert [step for step, _ in gateway.done][:2] == ["add_tags", "delete_tags"]
    deleted = [app for step, app in gateway.done if step == "delete_app"]
    assert deleted == apps[:2]  # never the shared space's app, never an app already deleted
    assert "app JupyterLab old in space alice-lab: already Deleted" in report.lines


def test_a_dry_run_changes_nothing():
    gateway = FakeAdminGateway({"alice": {"studiouserid": "alice@example.com"}},
                               [App("Canvas", "default", "InService", None, "alice")])
    (report,) = access(gateway).revoke([TARGET], "alice@example.com", scan=False, apply=False)
    assert gateway.done == [] and gateway.profiles["alice"] == {"studiouserid": "alice@example.com"}
    assert report.lines[0].startswith("would tag") and "would delete app Canvas default on the profile (InService)" \
        in report.lines


def test_if_the_record_cannot_be_written_the_owner_tag_stays_and_it_says_access_is_not_withdrawn():
    gateway = FakeAdminGateway({"alice": {"studiouserid": "alice@example.com"}})
    gateway.fail["add_tags"] = AwsRefused("AddTags: AccessDeniedException")
    (report,) = access(gateway).revoke([TARGET], "alice@example.com", scan=False, apply=True)
    assert report.failed and "access is NOT withdrawn" in report.lines[0]
    assert gateway.profiles["alice"] == {"studiouserid": "alice@example.com"}
    assert "no apps" in report.lines  # the apps are still stopped


def test_a_failed_owner_tag_removal_or_app_listing_is_reported():
    gateway = FakeAdminGateway({"alice": {"studiouserid": "alice@example.com"}})
    gateway.fail.update(delete_tags=AwsRefused("DeleteTags: AccessDeniedException"),
                        list_apps=AwsRefused("ListApps: AccessDeniedException"))
    (report,) = access(gateway).revoke([TARGET], "alice@example.com", scan=False, apply=True)
    assert report.failed and REVOKED_TAG in gateway.profiles["alice"]
    assert [line for line in report.lines if line.startswith("FAILED")] == [
        "FAILED: DeleteTags studiouserid (DeleteTags: AccessDeniedException)",
        "FAILED: listing the apps (ListSpaces, ListApps) (ListApps: AccessDeniedException)"]


@pytest.mark.parametrize("error", [AwsNotFound("DeleteApp"), AwsConflict("DeleteApp")])
def test_an_app_already_going_is_not_a_failure(error):
    gateway = FakeAdminGateway({"alice": {"studiouserid": "alice@example.com"}},
                               [App("Canvas", "default", "InService", None, "alice")])
    gateway.fail["delete_app"] = error
    (report,) = access(gateway).revoke([TARGET], "alice@example.com", scan=False, apply=True)
    assert not report.failed and "app Canvas default on the profile: already being deleted or gone" in report.lines


def test_a_failed_app_deletion_fails_the_report():
    gateway = FakeAdminGateway({"alice": {"studiouserid": "alice@example.com"}},
                               [App("Canvas", "default", "InService", None, "alice")])
    gateway.fail["delete_app"] = AwsRefused("DeleteApp: AccessDeniedException")
    (report,) = access(gateway).revoke([TARGET], "alice@example.com", scan=False, apply=True)
    assert report.failed


def test_revoking_again_finishes_the_job_without_a_new_record():
    gateway = FakeAdminGateway({"alice": {REVOKED_TAG: RECORD, "studiouserid": "alice@example.com"}})
    (report,) = access(gateway).revoke([TARGET], "alice@example.com", scan=False, apply=True)
    assert report.lines[0] == f"already revoked ({REVOKED_TAG}={RECORD!r})"
    assert gateway.profiles["alice"] == {REVOKED_TAG: RECORD}


def test_an_earlier_record_for_someone_else_is_replaced_and_said_so():
    gateway = FakeAdminGateway({"alice": {REVOKED_TAG: "2025-01-01T00:00:00Z bob@example.com",
                                          "studiouserid": "alice@example.com"}})
    (report,) = access(gateway).revoke([TARGET], "alice@example.com", scan=False, apply=True)
    assert report.lines[0].startswith("replaces an earlier record")
    assert gateway.profiles["alice"][REVOKED_TAG] == RECORD


def test_an_owner_too_long_to_record_is_still_revoked_and_restore_is_told_to_refuse():
    owner = "a" * 240 + "@example.com"
    gateway = FakeAdminGateway({"a" * 63: {"studiouserid": owner}})
    (report,) = access(gateway).revoke([TARGET], owner, scan=False, apply=True)
    assert gateway.profiles["a" * 63] == {REVOKED_TAG: "2026-12-01T08:44:20Z"}
    assert any("too long to record" in line for line in report.lines)
    (restored,) = access(gateway).restore([TARGET], owner, scan=False, apply=True)
    assert "a record that names no owner" in restored.lines[0] and "tag-owners" in restored.lines[0]
    assert gateway.profiles["a" * 63] == {REVOKED_TAG: "2026-12-01T08:44:20Z"}  # the identity is not guessed


def test_a_mapped_profile_that_is_not_theirs_is_left_alone():
    gateway = FakeAdminGateway({"john-doe": {"studiouserid": "john-doe@example.com"}})
    (report,) = access(gateway).revoke([TARGET], "john.doe@example.com", scan=False, apply=True)
    assert not report.failed and "is not theirs" in report.lines[0] and gateway.done == []


def test_no_profile_and_a_template_needing_other_claims():
    gateway = FakeAdminGateway({})
    assert lines(access(gateway).revoke([TARGET], "carol@example.com", scan=False, apply=True)) == [
        "no profile carol"]
    templated = Target(id="ml", label="ML", domain_id=DOMAIN, profile="{department}-{email}")
    (report,) = access(gateway).revoke([templated], "carol@example.com", scan=False, apply=True)
    assert report.failed and "use --scan" in report.lines[0]


def test_scan_finds_their_profiles_by_tag_and_reports_what_it_cannot_read():
    gateway = FakeAdminGateway({"ml-alice": {"studiouserid": "alice@example.com"},
                                "old-alice": {REVOKED_TAG: RECORD},
                                "alice2": {"studiouserid": "alice@example.co"}})
    found = access(gateway).who([TARGET], "alice@example.com", scan=True)
    assert sorted(report.profile for report in found) == ["ml-alice", "old-alice"]
    gateway.fail["list_user_profiles"] = AwsRefused("ListUserProfiles: AccessDeniedException")
    (report,) = access(gateway).who([TARGET], "alice@example.com", scan=True)
    assert report.failed and report.lines[0].startswith("FAILED: ListUserProfiles")
    del gateway.fail["list_user_profiles"]
    gateway.fail["describe_user_profile"] = AwsRefused("DescribeUserProfile: AccessDeniedException")
    (report,) = access(gateway).who([TARGET], "alice@example.com", scan=True)
    assert report.failed and report.lines[0].startswith("FAILED: reading profile")


def test_an_identity_the_portal_would_refuse_is_refused_here_too():
    with pytest.raises(IdentityUnusable):
        access(FakeAdminGateway({})).revoke([TARGET], "alice@example.com ", scan=False, apply=True)


# -- restore ---------------------------------------------------------------------------------------------
def test_restore_puts_the_owner_tag_back_exactly_then_removes_the_record():
    gateway = FakeAdminGateway({"alice": {REVOKED_TAG: RECORD, "team": "ml"}})
    (report,) = access(gateway).restore([TARGET], "Alice@example.com", scan=True, apply=True)
    assert not report.failed
    assert gateway.profiles["alice"] == {"studiouserid": "alice@example.com", "team": "ml"}
    assert [step for step, _ in gateway.done] == ["add_tags", "delete_tags"]


def test_restore_leaves_someone_elses_owner_tag_and_unrevoked_profiles_alone():
    gateway = FakeAdminGateway({"alice": {REVOKED_TAG: RECORD, "studiouserid": "mallory@example.com"}})
    (report,) = access(gateway).restore([TARGET], "alice@example.com", scan=False, apply=True)
    assert report.failed and "someone else's" in report.lines[0] and gateway.done == []
    gateway = FakeAdminGateway({"alice": {"studiouserid": "alice@example.com"}})
    assert lines(access(gateway).restore([TARGET], "alice@example.com", scan=False, apply=True)) == ["not revoked"]


def test_a_hand_made_record_on_their_own_profile_is_simply_removed():
    gateway = FakeAdminGateway({"alice": {REVOKED_TAG: "yes", "studiouserid": "alice@example.com"}})
    (report,) = access(gateway).restore([TARGET], "alice@example.com", scan=False, apply=False)
    assert report.lines == ["would remove studioportal:revoked (revoked by hand)"]
    gateway.fail["delete_tags"] = AwsRefused("DeleteTags: AccessDeniedException")
    (report,) = access(gateway).restore([TARGET], "alice@example.com", scan=False, apply=True)
    assert report.failed and report.lines[0].startswith("FAILED: restoring the tags")


# -- who -------------------------------------------------------------------------------------------------
def test_who_shows_the_owner_tag_the_record_and_the_running_apps_with_their_space():
    gateway = FakeAdminGateway({"alice": {REVOKED_TAG: "2026-12-01T08:44:20Z bob@example.com",
                                          "studiouserid": "alice@example.com"}},
                               [App("JupyterLab", "default", "InService", "alice-lab", None)],
                               [Space("alice-lab", "alice", False, "JupyterLab", "InService")])
    (report,) = access(gateway).who([TARGET], "alice@example.com", scan=False)
    assert report.lines == ["owner tag studiouserid='alice@example.com'",
                            "REVOKED at 2026-12-01T08:44:20Z (names 'bob@example.com')",
                            "running: JupyterLab default in space alice-lab (InService)"]
    gateway.fail["list_apps"] = AwsRefused("ListApps: AccessDeniedException")
    (report,) = access(gateway).who([TARGET], "alice@example.com", scan=False)
    assert report.failed and report.lines[-1].startswith("FAILED: listing the apps")


# -- Cognito ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("error, shown", [
    (CognitoUserNotFound("no user in pool with email exactly 'alice@example.com'"), "FAILED: no user in pool"),
    (AwsRefused("ListUsers: AccessDeniedException"), "FAILED: ListUsers (ListUsers: AccessDeniedException)"),
])
def test_a_cognito_user_that_cannot_be_found_fails_the_report(error, shown):
    gateway = FakeAdminGateway({})
    gateway.fail["cognito_username"] = error
    report = access(gateway).cognito("eu-west-1_X", "alice@example.com", None, disable=True, apply=True)
    assert report.failed and report.lines[0].startswith(shown)
