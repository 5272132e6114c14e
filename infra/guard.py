"""The owner tag guard: a managed policy that denies changing the tags the portal trusts.

The owner tag is the trust anchor: whoever may retag a profile can take it over through the portal, and
Studio execution roles (and people with broad SageMaker rights) often may tag. Attached to execution roles
and to people, this policy denies ``sagemaker:AddTags`` and ``sagemaker:DeleteTags`` whenever the request
names the owner tag key or ``studioportal:revoked`` (``aws:TagKeys``). Creating a profile with tags needs
``AddTags`` too, so those principals cannot create a profile carrying an owner tag either.

Tag keys are case-sensitive, and the portal reads exactly ``ownerTag``; the guard still compares keys
ignoring case (``StringEqualsIgnoreCase``), so that it never depends on how a service treats a key that
differs only in case. Never attach it to the portal's own role (first-visit provisioning tags new profiles)
or to the role that tags profiles for the portal (the admin command).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_iam as iam
from constructs import Construct

# REVOKED_TAG marks a profile whose access has been ended (revocation): as much a trust anchor as the owner tag.
from portal.revocation import REVOKED_TAG

GUARDED_ACTIONS = ("sagemaker:AddTags", "sagemaker:DeleteTags")


def guarded_tag_keys(owner_tag: str) -> list[str]:
    return [owner_tag, REVOKED_TAG]


def guard_condition(owner_tag: str) -> dict[str, Any]:
    return {"ForAnyValue:StringEqualsIgnoreCase": {"aws:TagKeys": guarded_tag_keys(owner_tag)}}


class OwnerTagGuard(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, owner_tag: str) -> None:
        super().__init__(scope, construct_id)
        self.policy = iam.ManagedPolicy(
            self, "Policy",
            description=f"Denies adding, changing or removing the tags the Studio portal trusts ({owner_tag}, "
                        f"{REVOKED_TAG}); attach to Studio execution roles and to people",
            statements=[iam.PolicyStatement(
                sid="DenyChangingPortalTrustTags", effect=iam.Effect.DENY, actions=list(GUARDED_ACTIONS),
                resources=["*"], conditions=guard_condition(owner_tag))],
        )
