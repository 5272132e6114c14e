"""The portal's Lambda function (its code bundle: infra/bundling.py): its role and exactly the permissions
the portal's AWS calls need (docs/deploy.md lists them).

Sizing
------
* **512 MB** of memory: Lambda allots CPU in proportion to memory, and a cold start imports Powertools,
  the X-Ray SDK, Jinja2 and ``cryptography`` (ID token signature checks). At 128-256 MB that import alone
  takes long enough to be felt on the first sign-in of the day; beyond 512 MB the gain is small while the
  price keeps rising. The function holds no data, so memory is for CPU, not for state.
* **25 s** timeout: API Gateway gives up on a REST integration after 29 s. Ending the function first means a
  stuck call (an IdP or SageMaker that does not answer) ends in the portal's own error page and a logged,
  counted error, instead of API Gateway's bare 504 with the function still running.

SnapStart
---------
On by default (``snapStart``): every deploy publishes a version, Lambda runs the function's init once for it and
snapshots the initialised memory, and cold starts restore that snapshot. API Gateway invokes the alias ``live``,
which each deploy moves to the new version; SnapStart never applies to ``$LATEST``. The superseded version is
deleted, so exactly one snapshot is cached (and billed). docs/performance.md gives the figures and the cost.

Permissions
-----------
* ``sagemaker:DescribeUserProfile``, ``sagemaker:ListTags`` and ``sagemaker:CreatePresignedDomainUrl`` on
  ``arn:${Partition}:sagemaker:${Region}:${Account}:user-profile/<domainId>/*`` only, and
  ``sagemaker:DescribeDomain`` (error paths) on that one domain's ARN.
* ``secretsmanager:GetSecretValue`` on the session key secret and the OIDC client secret only.
* Writing to its own log group only (no ``AWSLambdaBasicExecutionRole``, which allows every log group).
* X-Ray ``PutTraceSegments``/``PutTelemetryRecords``: the one ``Resource: *``, because X-Ray has no resource
  types to scope to.
* Every role that presigns (this one, and the launch role) carries :func:`revoked_profiles_deny`: no URL for
  a profile tagged ``studioportal:revoked``, and open Studio sessions of such a profile end too.
* With ``enforceOwnerTagInIam``, ``CreatePresignedDomainUrl`` moves to a separate launch role that the
  function assumes with a session tag naming the signed-in user; that role may only presign for profiles
  whose owner tag equals the session tag. See :class:`LaunchRole`.
* With ``targets`` (several domains) the statements above cover every target without ``role_arn``, each in
  its own region, and :func:`target_statements` adds ``ListSpaces``, first-visit provisioning
  (``CreateUserProfile``, ``AddTags`` on create, ``iam:PassRole``) and ``sts:AssumeRole``/``sts:TagSession``
  on exactly the targets' roles. PORTAL_TARGETS replaces PORTAL_DOMAIN_ID.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

import jsii
from aws_cdk import (
    Annotations,
    CfnElement,
    Duration,
    RemovalPolicy,
    Stack,
)
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct, IValidation

from infra.bundling import RUNTIME, portal_code
from infra.config import PortalConfig, StudioTarget
from infra.identity import OidcWiring
from infra.logs import audit_log_group
from infra.nag import flatten, resource_finding, suppress
from portal.revocation import REVOKED_TAG
from portal.settings_catalog import BY_ENV

HANDLER = "portal.handler.handler"
ARCHITECTURE = lambda_.Architecture.ARM_64
MEMORY_MB = 512
TIMEOUT = Duration.seconds(25)
SERVICE_NAME = BY_ENV["POWERTOOLS_SERVICE_NAME"].default
METRICS_NAMESPACE = BY_ENV["POWERTOOLS_METRICS_NAMESPACE"].default
ALIAS_NAME = "live"

# --- permissions ------------------------------------------------------------------------------------------
def _unique(items: Iterable[Any]) -> list[Any]:
    return list(dict.fromkeys(items))


def _sagemaker_arn(stack: Stack, region: str | None, resource: str, name: str) -> str:
    """``arn:<partition>:sagemaker:<region>:<account>:<resource>/<name>``: the stack's partition and account,
    the target's region (the stack's when it names none)."""
    return stack.format_arn(service="sagemaker", region=region, resource=resource, resource_name=name)


def profile_arns(config: PortalConfig, stack: Stack, targets: Iterable[StudioTarget] | None = None) -> list[str]:
    """``user-profile/<domainId>/*`` of each target the function reaches with its own role."""
    chosen = config.local_targets if targets is None else targets
    return [_sagemaker_arn(stack, region, "user-profile", f"{domain}/*")
            for region, domain in _unique((target.region, target.domain_id) for target in chosen)]


def domain_arns(config: PortalConfig, stack: Stack) -> list[str]:
    return [_sagemaker_arn(stack, region, "domain", domain)
            for region, domain in _unique((target.region, target.domain_id) for target in config.local_targets)]


def target_regions(config: PortalConfig, stack: Stack) -> list[str]:
    """The regions of the targets the function reaches with its own role (the stack's, when a target names none)."""
    return [region or stack.region for region in _unique(target.region for target in config.local_targets)]


def _profile_findings(scope: Construct, config: PortalConfig) -> list[str]:
    """cdk-nag's IAM5 findings for each domain's ``user-profile/<domainId>/*``."""
    return _unique(resource_finding(scope, arn) for arn in profile_arns(config, Stack.of(scope)))


def provisioning_tag_conditions(owner_tag: str, target: StudioTarget) -> dict[str, Any]:
    """CreateUserProfile (and the AddTags it implies) only with the owner tag set and non-empty, and no tag
    keys but the owner tag and the target's own ``provision.tags``."""
    assert target.provision is not None
    return {
        "StringLike": {f"aws:RequestTag/{owner_tag}": "?*"},
        "ForAllValues:StringEquals": {"aws:TagKeys": sorted({owner_tag, *target.provision.tag_keys})},
    }


def revoked_profiles_deny() -> iam.PolicyStatement:
    """Deny ``CreatePresignedDomainUrl`` for any profile tagged ``studioportal:revoked`` (`portal.admin revoke`).

    IAM evaluates the presigning principal's policy "for every HTTP request and WebSocket frame that attempts to
    connect to the app" (CreatePresignedDomainUrl, SageMaker API reference), so once the tag is on a profile its
    open Studio sessions stop at their next request as well. The ``user-profile`` resource takes the
    ``aws:ResourceTag/${TagKey}`` and ``sagemaker:ResourceTag/${TagKey}`` condition keys (Service Authorization
    Reference, "Actions, resources, and condition keys for Amazon SageMaker"); the global one is used, which the
    IAM linter in the tests (parliament) also recognises for this action. ``Null: false`` matches whatever the
    tag's value. On ``*``: a Deny wider than the Allow costs nothing and covers every domain the role reaches.
    """
    return iam.PolicyStatement(
        sid="NoStudioForRevokedProfiles", effect=iam.Effect.DENY, actions=["sagemaker:CreatePresignedDomainUrl"],
        resources=["*"], conditions={"Null": {f"aws:ResourceTag/{REVOKED_TAG}": "false"}})


def target_statements(config: PortalConfig, stack: Stack) -> list[iam.PolicyStatement]:
    """What the ``targets`` list adds to the function's role, beyond the profile and domain statements.

    * Targets without ``role_arn`` (the function's own account): ``sagemaker:ListSpaces``, which takes no
      resource ARN (Service Authorization Reference), so ``*`` limited to the targets' regions by
      ``aws:RequestedRegion``; with ``provision``, ``sagemaker:CreateUserProfile`` and the ``sagemaker:AddTags``
      that tagging on create needs, on that domain's profiles only, only with the owner tag and the target's
      tag keys, AddTags only as part of CreateUserProfile (``sagemaker:TaggingAction``), so the function cannot
      retag an existing profile; and ``iam:PassRole`` on exactly the execution roles, to SageMaker only.
    * Targets with ``role_arn``: ``sts:AssumeRole`` on exactly those roles, and ``sts:TagSession`` (only the
      owner tag) on those with ``tag_session``. No SageMaker permission: it lives on the role, in the
      domain's account (docs/deploy.md shows its policy and trust policy).
    """
    statements: list[iam.PolicyStatement] = []
    local = config.local_targets
    if local:
        statements.append(iam.PolicyStatement(
            sid="StudioSpaces", actions=["sagemaker:ListSpaces"], resources=["*"],
            conditions={"StringEquals": {"aws:RequestedRegion": target_regions(config, stack)}},
        ))
    # Targets whose tags have the same keys share one statement (IAM's policy size is limited; the
    # conditions being equal, listing their domains together grants exactly what one statement each would).
    by_tag_keys: dict[tuple[str, ...], list[StudioTarget]] = {}
    for target in local:
        if target.provision is not None:
            keys = tuple(provisioning_tag_conditions(config.owner_tag, target)["ForAllValues:StringEquals"]
                         ["aws:TagKeys"])
            by_tag_keys.setdefault(keys, []).append(target)
    for number, group in enumerate(by_tag_keys.values(), start=1):
        suffix = "" if number == 1 else str(number)
        resources = profile_arns(config, stack, group)
        conditions = provisioning_tag_conditions(config.owner_tag, group[0])
        statements.append(iam.PolicyStatement(
            sid=f"CreateProfiles{suffix}", actions=["sagemaker:CreateUserProfile"],
            resources=resources, conditions=conditions))
        statements.append(iam.PolicyStatement(
            sid=f"TagNewProfiles{suffix}", actions=["sagemaker:AddTags"], resources=resources,
            conditions={**conditions, "StringEquals": {"sagemaker:TaggingAction": "CreateUserProfile"}}))
    execution_roles = _unique(target.provision.execution_role_arn for target in local if target.provision)
    if execution_roles:
        statements.append(iam.PolicyStatement(
            sid="PassExecutionRolesToSageMaker", actions=["iam:PassRole"], resources=execution_roles,
            conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}))
    target_roles = _unique(target.role_arn for target in config.targets if target.role_arn)
    if target_roles:
        statements.append(iam.PolicyStatement(
            sid="AssumeTargetRoles", actions=["sts:AssumeRole"], resources=target_roles))
    tagged_roles = _unique(target.role_arn for target in config.targets if target.role_arn and target.tag_session)
    if tagged_roles:
        statements.append(iam.PolicyStatement(
            sid="TagTargetSessions", actions=["sts:TagSession"], resources=tagged_roles,
            conditions={"StringLike": {f"aws:RequestTag/{config.owner_tag}": "?*"},
                        "ForAllValues:StringEquals": {"aws:TagKeys": [config.owner_tag]}}))
    return statements


# Why an action may be granted on "*": it supports no resource-level permissions (Service Authorization Reference).
# A wildcard for an action not listed here stops synth until its reason is written down.
_STAR_ACTION_REASONS = {
    "xray:PutTraceSegments": "X-Ray active tracing",
    "xray:PutTelemetryRecords": "X-Ray active tracing",
    "sagemaker:ListSpaces": "the spaces of a deep link and of the chooser; like SageMaker's other List actions "
                            "(ListTags aside) it takes no resource ARN, so it is held to the targets' regions by "
                            "aws:RequestedRegion; it returns space names and owners, and the portal asks only for "
                            "its configured domains",
}


def _granted_on(policy: iam.Policy, finding: str) -> list[str]:
    """The actions ``policy`` allows on the resource cdk-nag reports as ``finding``."""
    document = Stack.of(policy).resolve(policy.document.to_json())
    return sorted({action for statement in document["Statement"] if statement.get("Effect") == "Allow"
                   and finding in {"Resource::" + flatten(resource) for resource in _as_list(statement["Resource"])}
                   for action in _as_list(statement["Action"])})


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def acknowledge_wildcards(policy: iam.Policy, profile_findings: list[str], *, extra: str = "") -> None:
    """One acknowledgement per accepted IAM5 finding, whose reason names every action granted on it."""
    for finding in profile_findings:
        actions = _granted_on(policy, finding)
        creates = " and create one (only with the owner tag and the target's tag keys)" if \
            "sagemaker:CreateUserProfile" in actions else ""
        suppress(policy, "AwsSolutions-IAM5",
                 f"{', '.join(actions)} on {finding.removeprefix('Resource::')}: the user profiles of one configured "
                 f"Studio domain only. The portal serves every employee, so it must reach any profile of that "
                 f"domain{creates}; which profile is decided per request by the identity mapping (and, with "
                 f"enforceOwnerTagInIam, by the owner tag condition in IAM itself).{extra}", findings=[finding])
    star = _granted_on(policy, "Resource::*")
    if star:
        unexplained = [action for action in star if action not in _STAR_ACTION_REASONS]
        if unexplained:
            raise ValueError(f"{', '.join(unexplained)} granted on '*' without a written reason (_STAR_ACTION_REASONS)")
        suppress(policy, "AwsSolutions-IAM5",
                 "Resource '*' only for actions that support no resource-level permissions (Service Authorization "
                 "Reference): " + "; ".join(f"{action} ({_STAR_ACTION_REASONS[action]})" for action in star) + ".",
                 findings=["Resource::*"])


class LaunchRole(Construct):
    """IAM-enforced ownership: only this role may presign, and only for the caller's own profile.

    The function assumes it with the session tag ``<ownerTag>=<signed-in identity>``. Its policy allows
    ``sagemaker:CreatePresignedDomainUrl`` where ``sagemaker:ResourceTag/<ownerTag>`` equals
    ``${aws:PrincipalTag/<ownerTag>}``, so a mapping bug in the portal cannot mint a URL for someone else's
    profile: IAM refuses it. The trust policy admits only the function's role, only with that one tag key.
    With ``targets`` it presigns in every domain the function reaches with its own role (targets with
    ``role_arn`` are presigned through their own role).
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: PortalConfig,
                 function_role: iam.IRole) -> None:
        super().__init__(scope, construct_id)
        tag = config.owner_tag
        self.role = iam.Role(
            self, "Role",
            description="Assumed by the Studio portal with a session tag naming the signed-in user; presigns "
                        "Studio URLs only for user profiles carrying the same tag value",
            assumed_by=iam.PrincipalWithConditions(
                iam.SessionTagsPrincipal(iam.ArnPrincipal(function_role.role_arn)),
                {
                    "StringLike": {f"aws:RequestTag/{tag}": "?*"},
                    "ForAllValues:StringEquals": {"aws:TagKeys": [tag]},
                },
            ),
            max_session_duration=Duration.hours(1),
        )
        self.role.add_to_policy(iam.PolicyStatement(
            sid="PresignOwnProfileOnly",
            actions=["sagemaker:CreatePresignedDomainUrl"],
            resources=profile_arns(config, Stack.of(self)),
            conditions={"StringEquals": {f"sagemaker:ResourceTag/{tag}": f"${{aws:PrincipalTag/{tag}}}"}},
        ))
        self.role.add_to_policy(revoked_profiles_deny())
        policy = self.role.node.find_child("DefaultPolicy")
        assert isinstance(policy, iam.Policy)
        acknowledge_wildcards(policy, _profile_findings(self, config),
                              extra=" Here the tag condition confines each session to the profile tagged with its "
                                    "own identity.")


class PortalFunction(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: PortalConfig, oidc: OidcWiring,
                 session_key: secretsmanager.ISecret, base_url: str | None, code: lambda_.Code | None = None
                 ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.log_group = audit_log_group(self, "Logs", days=config.log_retention_days)
        self.role = iam.Role(
            self, "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Studio portal function: read its two secrets, look up and launch Studio user profiles",
        )
        self.log_group.grant_write(self.role)
        # Always, even when the launch role presigns: targets without role_arn may be presigned by this role.
        self.role.add_to_policy(revoked_profiles_deny())

        self.launch_role: iam.Role | None = None
        if config.enforce_owner_tag_in_iam:
            self.launch_role = LaunchRole(self, "Launch", config=config, function_role=self.role).role
            self.role.add_to_policy(iam.PolicyStatement(
                sid="AssumeLaunchRoleWithSessionTag",
                actions=["sts:AssumeRole", "sts:TagSession"],
                resources=[self.launch_role.role_arn],
            ))

        if config.local_targets:
            profile_actions = ["sagemaker:DescribeUserProfile", "sagemaker:ListTags"]
            if self.launch_role is None:
                profile_actions.append("sagemaker:CreatePresignedDomainUrl")
            self.role.add_to_policy(iam.PolicyStatement(
                sid="StudioUserProfiles", actions=sorted(profile_actions), resources=profile_arns(config, stack)))
            self.role.add_to_policy(iam.PolicyStatement(
                sid="StudioDomain", actions=["sagemaker:DescribeDomain"], resources=domain_arns(config, stack)))
        # Also for a single domain: deep links to a space check it with ListSpaces.
        for statement in target_statements(config, stack):
            self.role.add_to_policy(statement)
        self.role.add_to_policy(iam.PolicyStatement(
            sid="PortalSecrets", actions=["secretsmanager:GetSecretValue"],
            resources=[session_key.secret_arn, oidc.client_secret_resource]))
        if oidc.kms_key_arn:
            self.role.add_to_policy(iam.PolicyStatement(
                sid="DecryptClientSecret", actions=["kms:Decrypt"], resources=[oidc.kms_key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"secretsmanager.{stack.region}.{stack.url_suffix}"}},
            ))

        environment = {
            # The context keys the function reads (PORTAL_DOMAIN_ID or PORTAL_TARGETS, claims, lifetimes, ...).
            **config.function_environment,
            # What the stack itself decides.
            "PORTAL_OIDC_ISSUER": oidc.issuer,
            "PORTAL_OIDC_CLIENT_SECRET_ARN": oidc.client_secret_id,
            "PORTAL_SESSION_KEY_ARN": session_key.secret_arn,
            "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
        }
        if oidc.client_id:
            environment["PORTAL_OIDC_CLIENT_ID"] = oidc.client_id
        authorize_params = (*oidc.authorize_params, *config.oidc_authorize_params)
        if authorize_params:
            environment["PORTAL_OIDC_AUTHORIZE_PARAMS"] = urlencode(authorize_params)
        if base_url:
            environment["PORTAL_BASE_URL"] = base_url
        if self.launch_role is not None:
            environment["PORTAL_LAUNCH_ROLE_ARN"] = self.launch_role.role_arn

        self.function = lambda_.Function(
            self, "Function",
            description="SageMaker Studio portal: OIDC sign-in, then a redirect to a presigned Studio URL",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=HANDLER,
            code=code or portal_code(),
            memory_size=MEMORY_MB,
            timeout=TIMEOUT,
            role=self.role,
            log_group=self.log_group,
            tracing=lambda_.Tracing.ACTIVE,
            environment=environment,
            reserved_concurrent_executions=config.reserved_concurrency,
            # The snapshot is taken when a version is published: see docs/performance.md (SnapStart).
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if config.snap_start else None,
            # Each version with SnapStart keeps a cached snapshot, billed while it exists: a deploy deletes the
            # version the alias pointed at before (rollback is a redeploy of the previous commit).
            current_version_options=lambda_.VersionOptions(removal_policy=RemovalPolicy.DESTROY),
        )
        # API Gateway invokes this alias, never $LATEST: SnapStart applies to published versions only, and every
        # deploy moves the alias to the version published from exactly what was deployed.
        self.alias = lambda_.Alias(self, "Live", alias_name=ALIAS_NAME, version=self.function.current_version,
                                   description="The version the portal's API invokes")
        if config.snap_start:
            Annotations.of(self.function).acknowledge_warning(
                "@aws-cdk/aws-lambda:snapStartRequirePublish",
                "The function publishes its current version and the API invokes it through the alias")

        # CDK makes the function DependsOn both the role (already implied by the GetAtt of its ARN, which
        # cfn-lint flags as W3005) and the role's policy (needed: the function must not start without it).
        policy = self.role.node.try_find_child("DefaultPolicy")
        assert policy is not None and policy.node.default_child is not None
        cfn_function = self.function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        policy_resource = policy.node.default_child
        assert isinstance(policy_resource, CfnElement)
        cfn_function.add_override("DependsOn", [stack.get_logical_id(policy_resource)])

        assert isinstance(policy, iam.Policy)
        acknowledge_wildcards(policy, _profile_findings(self, config) if config.local_targets else [])
        self.node.add_validation(_OnePolicyOnly(self.role, len(config.local_targets)))
        if RUNTIME.name != _latest_python():
            suppress(self.function, "AwsSolutions-L1",
                     f"Pinned to {RUNTIME.name} on purpose: lambda/requirements.txt, the bundled platform wheels "
                     "and the test suite target this version; moving to a newer runtime is a tested change.")


@jsii.implements(IValidation)
class _OnePolicyOnly:
    """Refuse synth when the role's statements outgrow IAM's 10,240 characters of inline policy: CDK would move
    the rest into "overflow" managed policies, which the function does not wait for and cdk-nag reports."""

    def __init__(self, role: iam.Role, local_targets: int) -> None:
        self.role = role
        self.local_targets = local_targets

    def validate(self) -> list[str]:
        if not any(child.node.id.startswith("OverflowPolicy") for child in self.role.node.children):
            return []
        return [f"targets: the function's IAM policy for {self.local_targets} targets in this account is larger than "
                "IAM allows a role's inline policies (10,240 characters); use fewer targets per portal, or reach "
                "some domains through a role_arn"]


def _latest_python() -> str:
    versions = [runtime.name for runtime in lambda_.Runtime.ALL if runtime.name.startswith("python3.")]
    return max(versions, key=lambda name: int(name.split(".")[1]))
