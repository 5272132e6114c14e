"""The IAM side of revocation: every principal that presigns carries a Deny on CreatePresignedDomainUrl for
profiles tagged studioportal:revoked, in every synthesized configuration and in the cross-account role policy
that docs/deploy.md gives operators. parliament (the IAM linter, reading the Service Authorization Reference)
checks that the condition key exists for the action."""

from __future__ import annotations

import json
import re
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # parliament imports pkg_resources, deprecated by setuptools
    from parliament import analyze_policy_string

from portal.revocation import REVOKED_TAG
from tests.infra.conftest import CONFIGS, ROOT, as_list, statements

pytestmark = pytest.mark.infra

DENY = {
    "Sid": "NoStudioForRevokedProfiles",
    "Effect": "Deny",
    "Action": "sagemaker:CreatePresignedDomainUrl",
    "Resource": "*",
    "Condition": {"Null": {f"aws:ResourceTag/{REVOKED_TAG}": "false"}},
}
PRESIGN = "sagemaker:CreatePresignedDomainUrl"


def presigning_roles(result) -> set[str]:
    """Logical ids of the roles some policy allows to presign."""
    roles = set()
    for policy in result.resources("AWS::IAM::Policy").values():
        if any(statement["Effect"] == "Allow" and PRESIGN in as_list(statement["Action"])
               for statement in policy["Properties"]["PolicyDocument"]["Statement"]):
            roles |= {role["Ref"] for role in policy["Properties"]["Roles"]}
    return roles


def findings(policy: dict) -> list[tuple[str, str]]:
    return [(finding.issue, str(finding.detail)) for finding in analyze_policy_string(json.dumps(policy)).findings]


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_every_presigning_role_denies_revoked_profiles(synth, name: str) -> None:
    result = synth(name)
    roles = presigning_roles(result)
    function_role = result.function["Properties"]["Role"]["Fn::GetAtt"][0]
    # The function's role presigns, or (enforceOwnerTagInIam) the launch role does: some role always does
    assert roles, "no role presigns?"
    for role in roles | {function_role}:
        assert DENY in statements(result, role), role


def test_the_launch_role_is_among_the_roles_checked(synth) -> None:
    # The check above covers both kinds of presigning principal, not only the function's role
    result = synth("byo-oidc-private")  # enforceOwnerTagInIam: the launch role presigns
    function_role = result.function["Properties"]["Role"]["Fn::GetAtt"][0]
    assert presigning_roles(result) - {function_role}


def probe(key: str) -> dict:
    """The Deny's condition key under a string operator: parliament checks keys there (not under Null)."""
    return {"Version": "2012-10-17", "Statement": [{**DENY, "Condition": {"StringLike": {key: "*"}}}]}


def test_parliament_knows_the_condition_key_for_the_action_and_would_catch_a_wrong_one() -> None:
    assert findings({"Version": "2012-10-17", "Statement": [DENY]}) == []
    (key,) = DENY["Condition"]["Null"]
    assert findings(probe(key)) == []
    assert [issue for issue, _ in findings(probe("sagemaker:InstanceTypes"))] == ["UNKNOWN_CONDITION_FOR_ACTION"]


def cross_account_policy() -> dict:
    doc = (ROOT / "docs" / "deploy.md").read_text()
    section = doc.split("### Targets in other accounts", 1)[1].split("\n### ", 1)[0]
    return json.loads(re.findall(r"```json\n(.*?)\n```", section, flags=re.DOTALL)[0])


def test_the_documented_cross_account_role_policy_carries_the_same_deny() -> None:
    policy = cross_account_policy()
    assert DENY in policy["Statement"]
    # And it allows presigning there, so the Deny matters
    assert any(statement["Effect"] == "Allow" and PRESIGN in as_list(statement["Action"])
               for statement in policy["Statement"])
