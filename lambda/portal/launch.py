"""Deciding whether a signed-in identity may open a Studio profile, and minting the URL when it may.

The ownership check (the profile's owner tag equals the identity) guards against two identities that
slug to one profile name. Its positive result is cached briefly per container, so a warm launch costs
exactly one AWS call: CreatePresignedDomainUrl.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from portal.aws import AwsGateway, AwsInvalid, AwsNotFound
from portal.errors import AwsRefused, DomainUnusable, ProfileNotFound, ProfileNotOwned, ProfileNotReady
from portal.identity import owner_value, profile_slug


@dataclass(frozen=True)
class Target:
    """One Studio domain the portal can open, and how to reach it."""

    id: str
    label: str
    domain_id: str
    region: str | None = None
    role_arn: str | None = None


@dataclass(frozen=True)
class LaunchPolicy:
    owner_tag: str
    url_expires_seconds: int
    studio_session_seconds: int
    ownership_cache_seconds: int = 60
    launch_role_arn: str | None = None


@dataclass(frozen=True)
class Launch:
    url: str
    profile: str
    domain_id: str


class OwnershipCache:
    """Recently confirmed (domain, profile, owner) triples; bounded, expiring, per container."""

    def __init__(self, ttl_seconds: int, max_entries: int = 10_000, clock=time.monotonic):
        self._ttl = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[tuple[str, str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def confirmed(self, key: tuple[str, str, str]) -> bool:
        with self._lock:
            expires = self._entries.get(key)
            if expires is None:
                return False
            if expires <= self._clock():
                del self._entries[key]
                return False
            return True

    def remember(self, key: tuple[str, str, str]) -> None:
        if self._ttl <= 0:
            return
        with self._lock:
            self._entries[key] = self._clock() + self._ttl
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def forget(self, key: tuple[str, str, str]) -> None:
        with self._lock:
            self._entries.pop(key, None)


class Launcher:
    def __init__(self, gateway: AwsGateway, policy: LaunchPolicy, cache: OwnershipCache | None = None):
        self._aws = gateway
        self._policy = policy
        self._cache = cache or OwnershipCache(policy.ownership_cache_seconds)

    def launch(self, identity: str, target: Target, space: str | None = None,
               landing_uri: str | None = None) -> Launch:
        profile = profile_slug(identity)
        owner = owner_value(identity)
        key = (target.domain_id, profile, owner)
        if not self._cache.confirmed(key):
            self.check_ownership(identity, target, profile)
            self._cache.remember(key)
        try:
            url = self._aws.create_presigned_url(
                self._presign_client(target, owner, profile),
                domain_id=target.domain_id, profile=profile,
                expires_seconds=self._policy.url_expires_seconds,
                session_seconds=self._policy.studio_session_seconds,
                space=space, landing_uri=landing_uri,
            )
        except AwsNotFound:
            # Deleted since the cached check, or the space is gone: check again next time.
            self._cache.forget(key)
            raise ProfileNotFound(profile, profile=profile, space=space) from None
        except AwsInvalid:
            self._cache.forget(key)
            self._raise_if_domain_unusable(target)
            raise AwsRefused("CreatePresignedDomainUrl rejected the request") from None
        return Launch(url=url, profile=profile, domain_id=target.domain_id)

    def check_ownership(self, identity: str, target: Target, profile: str | None = None) -> None:
        profile = profile or profile_slug(identity)
        client = self._aws.sagemaker(target.region, target.role_arn, session_name=profile)
        try:
            described = self._aws.describe_user_profile(client, target.domain_id, profile)
        except AwsNotFound:
            self._raise_if_domain_unusable(target)
            raise ProfileNotFound(profile, profile=profile) from None
        except AwsInvalid:
            self._raise_if_domain_unusable(target)
            raise AwsRefused("DescribeUserProfile rejected the request") from None
        tags = self._aws.list_tags(client, described.arn)
        tagged_owner = tags.get(self._policy.owner_tag)
        if tagged_owner is None or not hmac.compare_digest(tagged_owner.encode(), owner_value(identity).encode()):
            raise ProfileNotOwned(profile, profile=profile)
        if described.status != "InService":
            raise ProfileNotReady(described.status, profile=profile, profile_status=described.status)

    def _presign_client(self, target: Target, owner: str, profile: str):
        role = target.role_arn or self._policy.launch_role_arn
        # With a launch role the identity travels as a session tag, so IAM itself checks ownership.
        tags = {self._policy.owner_tag: owner} if self._policy.launch_role_arn else None
        return self._aws.sagemaker(target.region, role, session_tags=tags, session_name=profile)

    def _raise_if_domain_unusable(self, target: Target) -> None:
        client = self._aws.sagemaker(target.region, target.role_arn)
        try:
            domain = self._aws.describe_domain(client, target.domain_id)
        except AwsNotFound:
            raise DomainUnusable("domain not found", problem="does not exist") from None
        except AwsInvalid:
            raise DomainUnusable("domain id rejected", problem="does not exist") from None
        if domain.auth_mode != "IAM":
            raise DomainUnusable(f"AuthMode {domain.auth_mode}",
                                 problem="does not use IAM authentication, which the portal needs") from None
