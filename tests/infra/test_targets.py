"""Several Studio domains (the `targets` context key): PORTAL_TARGETS, and exactly the IAM each target needs.

The configurations are TARGETS in conftest.py: `ds` (this account and region, provisions), `eu-research`
(this account, eu-central-1), `ml-prod` (another account through a role, session tags, provisions there) and
`audit` (another account through a role).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Environment
from cdk_nag import AwsSolutionsChecks
from cfnlint.api import ManualArgs, lint_file

from portal.targets import parse_targets
from tests.infra.conftest import (
    AUDIT_ROLE,
    EXECUTION_ROLE,
    TARGETS,
    TEAM_ROLE,
    as_list,
    build,
    flat,
    refs,
    statements,
)

pytestmark = pytest.mark.infra

HERE = "arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>"
FRANKFURT = "arn:<AWS::Partition>:sagemaker:eu-central-1:<AWS::AccountId>"
DS_PROFILES = f"{HERE}:user-profile/d-aaaaaaaaaaaa/*"
EU_PROFILES = f"{FRANKFURT}:user-profile/d-cccccccccccc/*"
OTHER_ACCOUNT_DOMAINS = ("d-bbbbbbbbbbbb", "d-dddddddddddd")


def function_role(result) -> str:
    return result.function["Properties"]["Role"]["Fn::GetAtt"][0]


def by_sid(result) -> dict[str, dict[str, Any]]:
    found = {statement.get("Sid", ""): statement for statement in statements(result, function_role(result))}
    return found


def resources(statement: dict[str, Any]) -> list[str]:
    return sorted(flat(resource) for resource in as_list(statement["Resource"]))


def conditions(statement: dict[str, Any]) -> dict[str, Any]:
    """The statement's condition block with template values flattened (``{"Ref": ...}`` -> ``<...>``)."""
    def value(item: Any) -> Any:
        return [value(part) for part in item] if isinstance(item, list) else flat(item)
    return {operator: {key: value(item) for key, item in block.items()}
            for operator, block in statement.get("Condition", {}).items()}


# --- the environment ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["targets", "targets-enforced"])
def test_targets_are_rendered_into_portal_targets(synth, name: str) -> None:
    # Given targets as a JSON string (-c) or a JSON list (cdk.json)
    env = synth(name).env
    # Then the function gets them as compact JSON, and no PORTAL_DOMAIN_ID (the runtime refuses both)
    assert "PORTAL_DOMAIN_ID" not in env
    assert env["PORTAL_TARGETS"] == json.dumps(TARGETS, separators=(",", ":"))
    # which the runtime reads as the very targets given
    claim = env["PORTAL_IDENTITY_CLAIM"]
    assert parse_targets(env["PORTAL_TARGETS"], claim) == parse_targets(json.dumps(TARGETS), claim)


def test_single_domain_deployments_keep_portal_domain_id(synth) -> None:
    result = synth("default")
    assert result.env["PORTAL_DOMAIN_ID"] == "d-xxxxxxxxxxxx" and "PORTAL_TARGETS" not in result.env
    assert "FunctionRoleArn" not in result.json["Outputs"]


# --- IAM: targets in this account ---------------------------------------------------------------------------
def test_function_role_has_exactly_what_the_targets_need(synth) -> None:
    result = synth("targets")
    granted = {
        (statement.get("Sid", ""), tuple(sorted(as_list(statement["Action"]))), tuple(resources(statement)))
        for statement in statements(result, function_role(result))
        if not as_list(statement["Action"])[0].startswith(("logs:", "secretsmanager:", "xray:"))
        and statement["Effect"] == "Allow"
    }
    assert granted == {
        ("StudioUserProfiles",
         ("sagemaker:CreatePresignedDomainUrl", "sagemaker:DescribeUserProfile", "sagemaker:ListTags"),
         (DS_PROFILES, EU_PROFILES)),
        ("StudioDomain", ("sagemaker:DescribeDomain",),
         (f"{HERE}:domain/d-aaaaaaaaaaaa", f"{FRANKFURT}:domain/d-cccccccccccc")),
        ("StudioSpaces", ("sagemaker:ListSpaces",), ("*",)),
        ("CreateProfiles", ("sagemaker:CreateUserProfile",), (DS_PROFILES,)),
        ("TagNewProfiles", ("sagemaker:AddTags",), (DS_PROFILES,)),
        ("PassExecutionRolesToSageMaker", ("iam:PassRole",), (EXECUTION_ROLE,)),
        ("AssumeTargetRoles", ("sts:AssumeRole",), tuple(sorted([AUDIT_ROLE, TEAM_ROLE]))),
        ("TagTargetSessions", ("sts:TagSession",), (TEAM_ROLE,)),
    }
    for statement in statements(result, function_role(result)):
        assert statement["Effect"] == "Allow" or statement["Sid"] == "NoStudioForRevokedProfiles"
        assert not any("*" in a for a in as_list(statement["Action"]))


def test_same_account_target_with_provision_creates_tagged_profiles_only(synth) -> None:
    sids = by_sid(synth("targets"))
    tag_conditions = {
        "StringLike": {"aws:RequestTag/studiouserid": "?*"},
        "ForAllValues:StringEquals": {"aws:TagKeys": ["cost-center", "studiouserid", "team"]},
    }
    # CreateUserProfile on that domain's profiles, only carrying a non-empty owner tag and no foreign tag keys
    create = sids["CreateProfiles"]
    assert create["Action"] == "sagemaker:CreateUserProfile" and resources(create) == [DS_PROFILES]
    assert conditions(create) == tag_conditions
    # AddTags (which tagging on create needs) with the same tags, and only as part of CreateUserProfile: the
    # function cannot rewrite the owner tag of an existing profile
    tag = sids["TagNewProfiles"]
    assert tag["Action"] == "sagemaker:AddTags" and resources(tag) == [DS_PROFILES]
    assert conditions(tag) == {**tag_conditions, "StringEquals": {"sagemaker:TaggingAction": "CreateUserProfile"}}
    # PassRole on exactly the execution role, to SageMaker only
    passing = sids["PassExecutionRolesToSageMaker"]
    assert passing["Action"] == "iam:PassRole" and passing["Resource"] == EXECUTION_ROLE
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
    # A target without provision gets no create permission
    assert "d-cccccccccccc" not in json.dumps([sids["CreateProfiles"], sids["TagNewProfiles"]])
    assert not [sid for sid in sids if sid.startswith(("CreateProfiles", "TagNewProfiles"))
                and sid not in ("CreateProfiles", "TagNewProfiles")]


def test_provisioning_targets_share_a_statement_only_when_their_tag_keys_match(tmp_path: Path) -> None:
    role = "arn:aws:iam::123456789012:role/SageMakerExecution"
    same = [{"id": f"t{n}", "domain_id": f"d-{n:012d}", "region": region,
             "provision": {"execution_role_arn": role, "email_domains": ["example.com"], "tags": {"team": f"t{n}"}}}
            for n, region in ((1, None), (2, "us-east-1"))]
    other = {"id": "t3", "domain_id": "d-000000000003", "provision": {"execution_role_arn": role, "email_domains": ["example.com"]}}
    result = build("grouped", {"targets": json.dumps([*same, other])}, tmp_path)
    sids = by_sid(result)
    assert resources(sids["CreateProfiles"]) == [
        f"{HERE}:user-profile/d-000000000001/*",
        "arn:<AWS::Partition>:sagemaker:us-east-1:<AWS::AccountId>:user-profile/d-000000000002/*"]
    assert conditions(sids["CreateProfiles"])["ForAllValues:StringEquals"] == {"aws:TagKeys": ["studiouserid", "team"]}
    assert resources(sids["CreateProfiles2"]) == [f"{HERE}:user-profile/d-000000000003/*"]
    assert conditions(sids["CreateProfiles2"])["ForAllValues:StringEquals"] == {"aws:TagKeys": ["studiouserid"]}
    assert resources(sids["TagNewProfiles2"]) == resources(sids["CreateProfiles2"])
    assert sids["PassExecutionRolesToSageMaker"]["Resource"] == role  # listed once


def test_too_many_targets_for_one_iam_policy_stop_synth(tmp_path: Path) -> None:
    # CDK would spill the statements into managed policies the function does not wait for
    many = [{"id": f"t{n}", "domain_id": f"d-{n:012d}"} for n in range(40)]
    with pytest.raises(RuntimeError, match="targets: the function's IAM policy for 40 targets in this account is "
                                           "larger than IAM allows"):
        build("many", {"targets": json.dumps(many)}, tmp_path)


def test_list_spaces_is_limited_to_the_regions_of_same_account_targets(synth) -> None:
    spaces = by_sid(synth("targets"))["StudioSpaces"]
    # ListSpaces takes no resource ARN (Service Authorization Reference): "*", narrowed by region
    assert spaces["Action"] == "sagemaker:ListSpaces" and spaces["Resource"] == "*"
    assert conditions(spaces) == {"StringEquals": {"aws:RequestedRegion": ["<AWS::Region>", "eu-central-1"]}}


def test_a_targets_region_changes_its_arns(synth) -> None:
    sids = by_sid(synth("targets"))
    assert resources(sids["StudioUserProfiles"]) == [DS_PROFILES, EU_PROFILES]
    assert EU_PROFILES.startswith("arn:<AWS::Partition>:sagemaker:eu-central-1:<AWS::AccountId>:")
    assert resources(sids["StudioDomain"])[1] == f"{FRANKFURT}:domain/d-cccccccccccc"


# --- IAM: targets in other accounts -------------------------------------------------------------------------
def test_cross_account_targets_are_reached_only_through_their_roles(synth) -> None:
    result = synth("targets")
    sids = by_sid(result)
    # sts:AssumeRole on exactly the targets' roles, sts:TagSession only where tag_session is set, only the owner tag
    assume = sids["AssumeTargetRoles"]
    assert assume["Action"] == "sts:AssumeRole" and resources(assume) == sorted([TEAM_ROLE, AUDIT_ROLE])
    assert "Condition" not in assume
    tag = sids["TagTargetSessions"]
    assert tag["Action"] == "sts:TagSession" and tag["Resource"] == TEAM_ROLE
    assert tag["Condition"] == {"StringLike": {"aws:RequestTag/studiouserid": "?*"},
                                "ForAllValues:StringEquals": {"aws:TagKeys": ["studiouserid"]}}
    # And no SageMaker or PassRole permission for those domains: it lives on the role in their account
    policies = json.dumps(result.resources("AWS::IAM::Policy"))
    for domain in OTHER_ACCOUNT_DOMAINS:
        assert domain not in policies
    assert "arn:aws:iam::210987654321:role/SageMakerExecution" not in policies
    assert "eu-west-1" not in policies  # ml-prod's region only matters to the role in its account
    # The operator gets the principal to trust in those roles
    assert result.json["Outputs"]["FunctionRoleArn"]["Value"] == {"Fn::GetAtt": [function_role(result), "Arn"]}


def test_targets_all_in_other_accounts_give_the_function_no_sagemaker_permission(tmp_path: Path) -> None:
    # Given only targets reached through roles (synth applies cdk-nag: it fails on anything unacknowledged)
    remote = [target for target in TARGETS if "role_arn" in target]
    result = build("remote", {"targets": json.dumps(remote)}, tmp_path)
    allows = [s for s in statements(result, function_role(result)) if s["Effect"] == "Allow"]
    granted = [action for statement in allows for action in as_list(statement["Action"])]
    assert not [action for action in granted if action.startswith(("sagemaker:", "iam:"))]
    assert {"sts:AssumeRole", "sts:TagSession"} <= set(granted)
    assert [flat(r) for s in allows if "Resource" in s
            for r in as_list(s["Resource"]) if flat(r) == "*"] == ["*"]  # X-Ray's only
    assert AwsSolutionsChecks().validate_scope(result.app).violations == []


# --- IAM-enforced ownership ---------------------------------------------------------------------------------
def test_launch_role_presigns_in_every_same_account_target_domain(synth) -> None:
    result = synth("targets-enforced")
    roles = result.resources("AWS::IAM::Role")
    fn_role = function_role(result)
    (launch_role,) = [key for key, role in roles.items()
                      if fn_role in refs(role["Properties"]["AssumeRolePolicyDocument"])]
    (presign,) = [s for s in statements(result, launch_role) if s["Effect"] == "Allow"]
    assert presign["Action"] == "sagemaker:CreatePresignedDomainUrl"
    assert resources(presign) == [DS_PROFILES, EU_PROFILES]
    assert presign["Condition"] == {
        "StringEquals": {"sagemaker:ResourceTag/owner-email": "${aws:PrincipalTag/owner-email}"}}
    sids = by_sid(result)
    assert "sagemaker:CreatePresignedDomainUrl" not in as_list(sids["StudioUserProfiles"]["Action"])
    assert resources(sids["AssumeLaunchRoleWithSessionTag"]) == [f"<{launch_role}.Arn>"]
    # The owner tag is the configured one everywhere it is checked
    assert conditions(sids["CreateProfiles"])["ForAllValues:StringEquals"] == {
        "aws:TagKeys": ["cost-center", "owner-email", "team"]}
    assert sids["TagTargetSessions"]["Condition"]["ForAllValues:StringEquals"] == {"aws:TagKeys": ["owner-email"]}
    assert result.env["PORTAL_OWNER_TAG"] == "owner-email"


# --- a stack bound to an account and region -----------------------------------------------------------------
def test_bound_stack_uses_its_account_and_partition_with_each_targets_region(tmp_path: Path) -> None:
    result = build("targets", {"targets": json.dumps(TARGETS)}, tmp_path,
                   env=Environment(account="123456789012", region="eu-west-1"))
    sids = by_sid(result)
    # The partition is a literal once the region is known (@aws-cdk/core:enablePartitionLiterals)
    assert resources(sids["StudioUserProfiles"]) == [
        "arn:aws:sagemaker:eu-central-1:123456789012:user-profile/d-cccccccccccc/*",
        "arn:aws:sagemaker:eu-west-1:123456789012:user-profile/d-aaaaaaaaaaaa/*",
    ]
    assert conditions(sids["StudioSpaces"]) == {
        "StringEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}}
    assert AwsSolutionsChecks().validate_scope(result.app).violations == []
    assert [str(m) for m in lint_file(result.template_path, config=ManualArgs(regions=["eu-west-1"]))
            if not m.rule.id.startswith("I")] == []
