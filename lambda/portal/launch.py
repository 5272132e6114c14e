"""Deciding whether a signed-in person may open a Studio profile (and space), and minting the URL when so.

The ownership check (the profile's owner tag equals the identity) guards against two identities that map
to one profile name. Its positive result is cached briefly per container (PORTAL_OWNERSHIP_CACHE_SECONDS),
so a warm launch costs exactly one AWS call: CreatePresignedDomainUrl. That lifetime bounds how long a revoke
(the `studioportal:revoked` tag) takes to reach a warm container; the presigning roles' IAM Deny on that tag
refuses the presign even sooner, and such a refusal drops the cached answer at once. Spaces are listed
through a short per-container cache too.

The check's two reads, DescribeUserProfile and ListTags, run side by side when the profile's ARN can be
predicted: a user profile's ARN is ``arn:<partition>:sagemaker:<region>:<account>:user-profile/<domain>/<name>``,
and the part before the name is learnt per target (from DescribeDomain at init, or from any DescribeUserProfile
answer), or taken from the target's role for domains reached through one. The prediction only saves time:
tags count only when the described profile's ARN is exactly the predicted one; otherwise they are read again
for the described ARN, as before.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from portal.aws import AwsConflict, AwsDenied, AwsError, AwsInvalid, AwsNotFound, Gateway, Space, UserProfile
from portal.cache import ExpiringCache
from portal.errors import (
    AwsRefused,
    DomainUnusable,
    PortalError,
    ProfileNotFound,
    ProfileNotOwned,
    ProfileNotReady,
    ProfilePreparing,
    ProfileRevoked,
    ProvisioningRefused,
    SpaceNotAllowed,
    SpaceNotFound,
    for_aws,
)
from portal.i18n import N_
from portal.revocation import same_owner, withdraws
from portal.targets import Target

# A profile still not in service this long after creation is reported as stuck rather than polled forever.
PROVISIONING_PATIENCE_SECONDS = 15 * 60
_SETTLING = {"Pending", "Updating"}
# Profile statuses that never turn into InService by themselves.
WONT_BE_READY = ("Failed", "Update_Failed", "Delete_Failed", "Deleting")


@dataclass(frozen=True)
class Person:
    """The signed-in person as the session remembers them."""

    identity: str
    owner: str  # the value a profile's owner tag must carry
    claims: dict[str, Any] = field(default_factory=dict)
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class LaunchPolicy:
    owner_tag: str
    url_expires_seconds: int
    studio_session_seconds: int
    ownership_cache_seconds: int = 60
    spaces_cache_seconds: int = 60
    launch_role_arn: str | None = None


@dataclass(frozen=True)
class Launch:
    url: str
    profile: str
    domain_id: str


def _owned_key(person: Person, target: Target, profile: str) -> tuple[str, str, str, str]:
    return target.id, target.domain_id, profile, person.owner


class Launcher:
    def __init__(self, gateway: Gateway, policy: LaunchPolicy, clock: Callable[[], float] = time.time) -> None:
        self._aws = gateway
        self._policy = policy
        self._clock = clock
        self._owned = ExpiringCache(policy.ownership_cache_seconds)
        self._spaces = ExpiringCache(policy.spaces_cache_seconds, max_entries=200)
        # target id -> "arn:...:user-profile/<domain>/": where that target's profile ARNs start
        self._profile_arn_prefixes: dict[str, str] = {}

    def forget_cached_checks(self) -> None:
        """After a restore: the caches' expiry times are monotonic-clock readings from before the snapshot."""
        self._owned.clear()
        self._spaces.clear()

    # -- launching ------------------------------------------------------------------------------------
    def launch(self, person: Person, target: Target, space: str | None = None,
               landing_uri: str | None = None) -> Launch:
        profile = target.profile_name(person.claims)
        key = _owned_key(person, target, profile)
        if not self._owned.get(key):
            self.check_profile(person, target, profile)
            self._owned.put(key, True)
        if space:
            self.check_space(target, profile, space, person)
        try:
            url = self._aws.create_presigned_url(
                self._presign_client(target, person, profile),
                domain_id=target.domain_id, profile=profile,
                expires_seconds=self._policy.url_expires_seconds,
                session_seconds=self._policy.studio_session_seconds,
                space=space, landing_uri=landing_uri,
            )
        except AwsNotFound:
            # Deleted since the cached checks: check again next time.
            self._owned.forget(key)
            self._spaces.forget(target.id)
            if space:
                raise SpaceNotFound(space, space=space, target_label=target.label) from None
            raise ProfileNotFound(profile, profile=profile, target_label=target.label) from None
        except AwsInvalid:
            self._owned.forget(key)
            self._raise_if_domain_unusable(target, person)
            raise AwsRefused("CreatePresignedDomainUrl rejected the request") from None
        except AwsDenied as denied:
            # Denied since the cached check, perhaps by the IAM Deny on a revoked profile: say which, if so.
            self._owned.forget(key)
            self.check_profile(person, target, profile, provision=False)
            raise for_aws(denied) from None
        return Launch(url=url, profile=profile, domain_id=target.domain_id)

    def profile_state(self, person: Person, target: Target, profile: str) -> tuple[str, str | None]:
        """What opening ``target`` would do, found without doing it (for the chooser; never creates a profile):
        (state, profile status), the state one of open, create, missing, preparing, not_ready, failed, revoked,
        not_yours, unknown."""
        key = _owned_key(person, target, profile)
        if self._owned.get(key):
            return "open", "InService"
        try:
            self.check_profile(person, target, profile, provision=False)
        except ProfilePreparing:
            return "preparing", None
        except ProfileNotFound:
            admitted = target.provision is not None and target.provision.admits(person.identity)
            return ("create" if admitted else "missing"), None
        except ProfileNotReady as not_ready:
            status = not_ready.page_context.get("profile_status")
            settled = not_ready.page_context.get("stuck") or status in WONT_BE_READY
            return ("failed" if settled else "not_ready"), str(status) if status else None
        except ProfileRevoked:
            return "revoked", None
        except ProfileNotOwned:
            return "not_yours", None
        except (PortalError, AwsError):
            return "unknown", None
        self._owned.put(key, True)  # the same fact launch() caches after check_profile
        return "open", "InService"

    def check_profile(self, person: Person, target: Target, profile: str, provision: bool = True) -> None:
        """Raise unless the profile exists, is this person's, and is in service (creating it if allowed)."""
        client = self._client(target, person, profile)
        try:
            described = self._owned_profile(client, person, target, profile)
        except AwsNotFound:
            self._raise_if_domain_unusable(target, person)
            if target.provision and provision:
                if not target.provision.admits(person.identity):
                    raise ProvisioningRefused("identity outside the target's email_domains", profile=profile,
                                              target_label=target.label,
                                              email_domains=target.provision.email_domains) from None
                self._provision(client, person, target, profile)
            raise ProfileNotFound(profile, profile=profile, target_label=target.label) from None
        if described.status == "InService":
            return
        if target.provision and described.status in _SETTLING:
            if described.created and self._clock() - described.created > PROVISIONING_PATIENCE_SECONDS:
                raise ProfileNotReady(f"stuck {described.status}", profile=profile,
                                      profile_status=described.status, stuck=True)
            raise ProfilePreparing(described.status, profile=profile, target_label=target.label)
        raise ProfileNotReady(described.status, profile=profile, profile_status=described.status)

    def _owned_profile(self, client: Any, person: Person, target: Target, profile: str) -> UserProfile:
        """The profile, once its owner tag is this person's (AwsNotFound when it does not exist)."""
        try:
            described, tags = self._describe_with_tags(client, target, profile)
        except AwsInvalid:
            self._raise_if_domain_unusable(target, person)
            raise AwsRefused("DescribeUserProfile rejected the request") from None
        if withdraws(tags, self._policy.owner_tag, person.owner):
            raise ProfileRevoked(profile, profile=profile, target_label=target.label)
        if not same_owner(tags.get(self._policy.owner_tag), person.owner):
            raise ProfileNotOwned(profile, profile=profile, target_label=target.label, domain_id=target.domain_id,
                                  owner_tag=self._policy.owner_tag, provisions=bool(target.provision))
        return described

    def _describe_with_tags(self, client: Any, target: Target, profile: str) -> tuple[UserProfile, dict[str, str]]:
        """DescribeUserProfile, and ListTags of the profile it describes: side by side when its ARN is predictable.

        Errors are DescribeUserProfile's; a failed or mismatched concurrent ListTags is simply made again for the
        described ARN.
        """
        prefix = self._profile_arn_prefix(target)
        if prefix is None:
            described = self._aws.describe_user_profile(client, target.domain_id, profile)
            self._learn_profile_arn(target, profile, described.arn)
            return described, self._aws.list_tags(client, described.arn)
        predicted = prefix + profile
        tags = _Background(self._aws.list_tags, client, predicted)
        try:
            described = self._aws.describe_user_profile(client, target.domain_id, profile)
        finally:
            tags.join()
        if described.arn == predicted and tags.error is None:
            return described, tags.result
        self._learn_profile_arn(target, profile, described.arn)
        return described, self._aws.list_tags(client, described.arn)

    def _profile_arn_prefix(self, target: Target) -> str | None:
        learnt = self._profile_arn_prefixes.get(target.id)
        if learnt is not None or not target.role_arn:
            return learnt
        # A domain reached through a role normally lives in the role's account (docs/deploy.md).
        parts = target.role_arn.split(":")
        region = target.region or self._aws.region
        if len(parts) < 5 or not parts[1] or not parts[4] or not region:
            return None
        return f"arn:{parts[1]}:sagemaker:{region}:{parts[4]}:user-profile/{target.domain_id}/"

    def _learn_profile_arn(self, target: Target, profile: str, arn: str) -> None:
        if arn.endswith(f"/{target.domain_id}/{profile}"):
            self._profile_arn_prefixes[target.id] = arn[: -len(profile)]

    def learn_profile_arns(self, targets: tuple[Target, ...]) -> None:
        """At init: where each target's profile ARNs start, from DescribeDomain (targets reached with the
        function's own role; a role's domain is predicted from the role). Failures only leave it unknown."""
        for target in targets:
            if target.role_arn or target.id in self._profile_arn_prefixes:
                continue
            domain_arn = self._domain_arn(target)
            marker = f":domain/{target.domain_id}"
            if domain_arn.endswith(marker):
                self._profile_arn_prefixes[target.id] = (
                    f"{domain_arn[: -len(marker)]}:user-profile/{target.domain_id}/")

    def _domain_arn(self, target: Target) -> str:
        try:
            return self._aws.describe_domain(self._client(target, None, None), target.domain_id).arn
        except (AwsError, PortalError):
            return ""  # only an optimisation: the first check learns it instead

    def _provision(self, client: Any, person: Person, target: Target, profile: str) -> None:
        provision = target.provision
        assert provision is not None
        tags = dict(provision.tags)
        tags[self._policy.owner_tag] = person.owner
        try:
            self._aws.create_user_profile(
                client, domain_id=target.domain_id, profile=profile, tags=tags,
                user_settings={**provision.user_settings, "ExecutionRole": provision.execution_role_arn})
        except AwsConflict:
            pass  # a second click created it a moment ago: carry on as if we had
        except AwsInvalid:
            raise AwsRefused("CreateUserProfile rejected the request") from None
        raise ProfilePreparing("created", profile=profile, target_label=target.label)

    # -- spaces -----------------------------------------------------------------------------------------
    def spaces(self, target: Target, person: Person | None = None) -> list[Space]:
        cached = self._spaces.get(target.id)
        if cached is None:
            cached = self._aws.list_spaces(self._client(target, person, None), target.domain_id)
            self._spaces.put(target.id, cached)
        return cached

    def owned_spaces(self, person: Person, target: Target, profile: str) -> list[Space]:
        """The spaces the chooser may name for this profile: its own private spaces and the shared ones, and
        only once the profile's ownership check passed (a look-alike colleague learns no space names). A cached
        ownership answer stands, as it does for launches; a revoked profile raises ProfileRevoked."""
        key = _owned_key(person, target, profile)
        if not self._owned.get(key):
            try:
                described = self._owned_profile(self._client(target, person, profile), person, target, profile)
            except AwsNotFound:
                raise ProfileNotFound(profile, profile=profile, target_label=target.label) from None
            if described.status == "InService":
                self._owned.put(key, True)  # the same fact launch() caches after check_profile
        return [space for space in self.spaces(target, person) if space.shared or space.owner == profile]

    def check_space(self, target: Target, profile: str, space_name: str, person: Person | None = None) -> Space:
        space = next((space for space in self.spaces(target, person) if space.name == space_name), None)
        if space is None:
            raise SpaceNotFound(space_name, space=space_name, target_label=target.label)
        if not space.shared and space.owner != profile:
            raise SpaceNotAllowed(space_name, space=space_name, target_label=target.label)
        return space

    # -- clients ---------------------------------------------------------------------------------------
    def _client(self, target: Target, person: Person | None, profile: str | None = None) -> Any:
        # An assumed role's session is named after the person, so CloudTrail in the domain's account says who.
        tags = {self._policy.owner_tag: person.owner} if target.tag_session and person else None
        return self._aws.sagemaker(target.region, target.role_arn, session_tags=tags,
                                   session_name=person.owner if person else "studio-portal")

    def _presign_client(self, target: Target, person: Person, profile: str) -> Any:
        if target.role_arn or not self._policy.launch_role_arn:
            return self._client(target, person, profile)
        # With a launch role the identity travels as a session tag, so IAM itself checks ownership.
        return self._aws.sagemaker(target.region, self._policy.launch_role_arn,
                                   session_tags={self._policy.owner_tag: person.owner}, session_name=person.owner)

    def _raise_if_domain_unusable(self, target: Target, person: Person | None) -> None:
        client = self._client(target, person, None)
        try:
            domain = self._aws.describe_domain(client, target.domain_id)
        except (AwsNotFound, AwsInvalid):
            raise DomainUnusable("domain not found", problem=N_(
                "The portal is pointed at a SageMaker Studio domain that does not exist.")) from None
        if domain.auth_mode != "IAM":
            raise DomainUnusable(f"AuthMode {domain.auth_mode}",
                                 problem=N_("The portal is pointed at a SageMaker Studio domain that does not use IAM "
                                            "authentication, which the portal needs.")) from None


class _Background:
    """One call on its own thread, started at once; ``join`` waits for it and keeps its result or error."""

    def __init__(self, call: Any, *args: Any) -> None:
        self.result: Any = None
        self.error: BaseException | None = None
        # In this request's context: the call keeps its deadline (portal.deadline) on the other thread.
        self._thread = threading.Thread(target=contextvars.copy_context().run, args=(self._run, call, args),
                                        daemon=True)
        self._thread.start()

    def _run(self, call: Any, args: tuple[Any, ...]) -> None:
        try:
            self.result = call(*args)
        except BaseException as error:  # handed to the caller, who decides
            self.error = error

    def join(self) -> None:
        self._thread.join()
