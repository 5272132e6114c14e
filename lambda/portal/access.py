"""Ending and restoring a person's access: the logic behind `python -m portal.admin revoke | restore | who`.

Revoking a profile, in this order: tag it `studioportal:revoked=<UTC time> <owner>` (from then on the presigning
roles' IAM Deny matches it: no new URL, and open Studio sessions stop at their next request), remove its owner
tag (the portal's own check refuses it too), then delete the person's running apps: those ListApps reports for
the profile itself and for each of its private spaces, never a shared space's. Restoring puts the owner tag back
from the record first and removes the record last, so the Deny holds until access is whole again.

Every step is reported, profile by profile; a failed step is reported and the others still run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from portal.admin_aws import AdminGateway, App, CognitoUserNotFound
from portal.aws import AwsConflict, AwsError, AwsNotFound
from portal.errors import PortalError
from portal.identity import claim_value, owner_value
from portal.revocation import REVOKED_TAG, parse, record, same_owner
from portal.targets import Target

_AWS_FAILURES = (PortalError, AwsError)


@dataclass
class Report:
    """What happened to one profile (or, with `profile` None, to a target or the Cognito user)."""

    where: str
    profile: str | None = None
    lines: list[str] = field(default_factory=list)
    failed: bool = False

    def say(self, line: str) -> None:
        self.lines.append(line)

    def fail(self, line: str, error: Exception | None = None) -> None:
        self.lines.append(f"FAILED: {line}" + (f" ({_reason(error)})" if error is not None else ""))
        self.failed = True

    def text(self) -> str:
        head = f"{self.where} profile {self.profile}" if self.profile else self.where
        return "\n".join([head, *(f"  {line}" for line in self.lines)])


def _reason(error: Exception) -> str:
    return (error.detail if isinstance(error, PortalError) else str(error)) or type(error).__name__


@dataclass(frozen=True)
class Found:
    """A profile, its ARN and its tags as read just now."""

    name: str
    arn: str
    tags: dict[str, str]


class Access:
    def __init__(self, gateway: AdminGateway, owner_tag: str, identity_claim: str,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._aws = gateway
        self._owner_tag = owner_tag
        self._claim = identity_claim
        self._clock = clock

    # -- finding the person's profiles ---------------------------------------------------------------------
    def _client(self, target: Target) -> Any:
        # The operator's own credentials, never the target's role_arn: the portal's presigning roles must not
        # be able to retag profiles or delete apps. A domain in another account needs that account's credentials.
        return self._aws.sagemaker(target.region)

    def _theirs(self, tags: dict[str, str], owner: str) -> bool:
        revocation = parse(tags.get(REVOKED_TAG))
        return same_owner(tags.get(self._owner_tag), owner) or (revocation is not None and revocation.names(owner))

    def find(self, target: Target, identity: str, scan: bool, report: Report) -> list[Found]:
        """The person's profiles in `target`: the mapped name (reported when it is not theirs), or with `scan`
        every profile whose owner tag or revocation record names them."""
        owner = owner_value(identity)
        client = self._client(target)
        if not scan:
            try:
                name = target.profile_name({self._claim: identity})
            except PortalError as error:
                report.fail(f"no profile name from {identity!r} alone (template {target.profile!r}); use --scan",
                            error)
                return []
            found = self._read(client, target, name, report)
            if found is not None and not self._theirs(found.tags, owner):
                revocation = parse(found.tags.get(REVOKED_TAG))
                if revocation is not None and revocation.owner is None and self._owner_tag not in found.tags:
                    report.say(f"profile {name} is revoked by a record that names no owner "
                               f"({REVOKED_TAG}={found.tags[REVOKED_TAG]!r}): give it its owner tag with tag-owners "
                               "first if it is theirs; left alone")
                else:
                    report.say(f"profile {name} is not theirs "
                               f"({self._owner_tag}={found.tags.get(self._owner_tag)!r}); left alone")
                return []
            return [found] if found is not None else []
        try:
            names = self._aws.list_user_profiles(client, target.domain_id)
        except _AWS_FAILURES as error:
            report.fail("ListUserProfiles", error)
            return []
        candidates = [self._read(client, target, name, report) for name in names]
        return [found for found in candidates if found is not None and self._theirs(found.tags, owner)]

    def _read(self, client: Any, target: Target, name: str, report: Report) -> Found | None:
        try:
            described = self._aws.describe_user_profile(client, target.domain_id, name)
            return Found(name, described.arn, self._aws.list_tags(client, described.arn))
        except AwsNotFound:
            report.say(f"no profile {name}")
        except _AWS_FAILURES as error:
            report.fail(f"reading profile {name}", error)
        return None

    def apps(self, target: Target, profile: str) -> list[App]:
        """The profile's apps and those of its private spaces (a shared space's apps are everyone's)."""
        client = self._client(target)
        spaces = [space.name for space in self._aws.list_spaces(client, target.domain_id)
                  if not space.shared and space.owner == profile]
        apps = self._aws.list_apps(client, target.domain_id, profile=profile)
        for space in spaces:
            apps += self._aws.list_apps(client, target.domain_id, space=space)
        unique: dict[tuple[str, str, str | None, str | None], App] = {}
        for app in apps:
            unique.setdefault((app.app_type, app.name, app.space, app.profile if not app.space else None), app)
        return list(unique.values())

    # -- revoke ---------------------------------------------------------------------------------------------
    def _each_profile(self, targets: Sequence[Target], identity: str, scan: bool,
                      act: Callable[[Target, Found, str, Report], None]) -> list[Report]:
        """Run ``act`` on every profile of this identity in every target, one report per profile (and one per
        target where none was found or the search itself had something to say)."""
        owner = owner_value(claim_value({self._claim: identity}, self._claim))
        reports: list[Report] = []
        for target in targets:
            where = f"{target.id} ({target.domain_id})"
            found_report = Report(where)
            found = self.find(target, identity, scan, found_report)
            if found_report.lines or not found:
                found_report.lines = found_report.lines or ["no profile of theirs"]
                reports.append(found_report)
            for profile in found:
                report = Report(where, profile.name)
                act(target, profile, owner, report)
                reports.append(report)
        return reports

    def revoke(self, targets: Sequence[Target], identity: str, *, scan: bool, apply: bool) -> list[Report]:
        def revoke_one(target: Target, profile: Found, owner: str, report: Report) -> None:
            self._revoke_profile(target, profile, owner, apply, report)
            self._stop_apps(target, profile.name, apply, report)

        return self._each_profile(targets, identity, scan, revoke_one)

    def _revoke_profile(self, target: Target, profile: Found, owner: str, apply: bool, report: Report) -> None:
        client = self._client(target)
        verb = "" if apply else "would "
        revocation = parse(profile.tags.get(REVOKED_TAG))
        tagged = profile.tags.get(self._owner_tag)
        if revocation is not None and (revocation.names(owner) or (revocation.owner is None
                                                                    and same_owner(tagged, owner))):
            report.say(f"already revoked ({REVOKED_TAG}={profile.tags[REVOKED_TAG]!r})")
        else:
            value = record(tagged or owner, self._clock())
            if revocation is not None:
                report.say(f"replaces an earlier record {REVOKED_TAG}={profile.tags[REVOKED_TAG]!r}")
            parsed = parse(value)
            if parsed is None or parsed.owner is None:
                report.say("the owner value is too long to record next to the time: restore will refuse; "
                           "put the owner tag back with tag-owners")
            try:
                if apply:
                    self._aws.add_tags(client, profile.arn, {REVOKED_TAG: value})
                report.say(f"{verb}tag {REVOKED_TAG}={value!r} (the presigning roles' Deny matches from then on)")
            except _AWS_FAILURES as error:
                report.fail(f"AddTags {REVOKED_TAG}: access is NOT withdrawn", error)
                return
        if tagged is None:
            return
        try:
            if apply:
                self._aws.delete_tags(client, profile.arn, [self._owner_tag])
            report.say(f"{verb}remove owner tag {self._owner_tag}={tagged!r}")
        except _AWS_FAILURES as error:
            report.fail(f"DeleteTags {self._owner_tag}", error)

    def _stop_apps(self, target: Target, profile: str, apply: bool, report: Report) -> None:
        try:
            apps = self.apps(target, profile)
        except _AWS_FAILURES as error:
            report.fail("listing the apps (ListSpaces, ListApps)", error)
            return
        client = self._client(target)
        for app in apps:
            label = f"app {app.app_type} {app.name} {app.where()}"
            if not app.running:
                report.say(f"{label}: already {app.status}")
                continue
            if not apply:
                report.say(f"would delete {label} ({app.status})")
                continue
            try:
                self._aws.delete_app(client, target.domain_id, app)
                report.say(f"deleted {label}")
            except (AwsNotFound, AwsConflict):
                report.say(f"{label}: already being deleted or gone")
            except _AWS_FAILURES as error:
                report.fail(f"DeleteApp {label}", error)
        if not apps:
            report.say("no apps")

    # -- restore --------------------------------------------------------------------------------------------
    def restore(self, targets: Sequence[Target], identity: str, *, scan: bool, apply: bool) -> list[Report]:
        return self._each_profile(targets, identity, scan,
                                  lambda target, profile, owner, report:
                                  self._restore_profile(target, profile, owner, apply, report))

    def _restore_profile(self, target: Target, profile: Found, owner: str, apply: bool, report: Report) -> None:
        client = self._client(target)
        verb = "" if apply else "would "
        revocation = parse(profile.tags.get(REVOKED_TAG))
        tagged = profile.tags.get(self._owner_tag)
        if revocation is None:
            report.say("not revoked")
            return
        if revocation.owner is None and not same_owner(tagged, owner):
            report.fail(f"the record {profile.tags[REVOKED_TAG]!r} names no owner: put the owner tag back with "
                        f"tag-owners, then run restore again")
            return
        restored = revocation.owner if revocation.owner is not None else tagged
        if tagged is not None and tagged != restored:
            report.fail(f"owner tag {self._owner_tag}={tagged!r} is someone else's now: left alone")
            return
        try:
            if tagged is None and apply:
                self._aws.add_tags(client, profile.arn, {self._owner_tag: str(restored)})
            if tagged is None:
                report.say(f"{verb}tag {self._owner_tag}={restored!r}")
            if apply:
                self._aws.delete_tags(client, profile.arn, [REVOKED_TAG])
            report.say(f"{verb}remove {REVOKED_TAG} (revoked {revocation.at or 'by hand'})")
        except _AWS_FAILURES as error:
            report.fail("restoring the tags", error)

    # -- who ------------------------------------------------------------------------------------------------
    def who(self, targets: Sequence[Target], identity: str, *, scan: bool) -> list[Report]:
        def describe(target: Target, profile: Found, owner: str, report: Report) -> None:
            tagged = profile.tags.get(self._owner_tag)
            report.say(f"owner tag {self._owner_tag}={tagged!r}" if tagged is not None else "no owner tag")
            revocation = parse(profile.tags.get(REVOKED_TAG))
            if revocation is None:
                report.say("not revoked")
            else:
                whose = "theirs" if revocation.names(owner) else f"names {revocation.owner!r}"
                report.say(f"REVOKED at {revocation.at or '(time not recorded)'} ({whose})")
            try:
                running = [app for app in self.apps(target, profile.name) if app.running]
            except _AWS_FAILURES as error:
                report.fail("listing the apps", error)
                running = []
            for app in running:
                report.say(f"running: {app.app_type} {app.name} {app.where()} ({app.status})")
            if not running and not report.failed:
                report.say("no running apps")

        return self._each_profile(targets, identity, scan, describe)

    # -- Cognito --------------------------------------------------------------------------------------------
    def cognito(self, user_pool_id: str, identity: str, username: str | None, *, disable: bool,
                apply: bool) -> Report:
        """Sign the user out everywhere and disable them (`disable`), or enable them again."""
        report = Report(f"Cognito user pool {user_pool_id}")
        verb = "" if apply else "would "
        try:
            username = username or self._aws.cognito_username(user_pool_id, self._claim, identity)
        except CognitoUserNotFound as error:
            report.fail(str(error))
            return report
        except _AWS_FAILURES as error:
            report.fail("ListUsers", error)
            return report
        steps = ([("global sign-out (refresh tokens revoked)", self._aws.global_sign_out),
                  ("disable (no new sign-in)", self._aws.disable_user)] if disable
                 else [("enable", self._aws.enable_user)])
        for what, call in steps:
            try:
                if apply:
                    call(user_pool_id, username)
                report.say(f"{verb}{what}: user {username}")
            except _AWS_FAILURES as error:
                report.fail(f"{what}: user {username}", error)
        return report
