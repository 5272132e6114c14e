"""The owner tag guard: the managed policy in the template and the SCP in docs/deploy.md, both checked by
parliament (the IAM linter) and against each other."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # parliament imports pkg_resources, deprecated by setuptools
    from parliament import analyze_policy_string

from tests.infra.conftest import ROOT

pytestmark = pytest.mark.infra

DOC = ROOT / "docs" / "deploy.md"


def findings(policy: dict) -> list[tuple[str, str]]:
    return [(finding.issue, str(finding.detail)) for finding in analyze_policy_string(json.dumps(policy)).findings]


def guard(result) -> dict:
    (policy,) = result.resources("AWS::IAM::ManagedPolicy").values()
    return policy


def scp_from_doc(path: Path = DOC) -> dict:
    section = path.read_text().split("## Guarding the owner tag", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```json\n(.*?)\n```", section, flags=re.DOTALL)
    (scp,) = [json.loads(block) for block in blocks if '"Version"' in block]
    return scp


@pytest.mark.parametrize("name, owner_tag", [("default", "studiouserid"), ("byo-oidc-private", "owner-email")])
def test_the_guard_denies_tag_changes_on_the_trusted_keys(synth, name: str, owner_tag: str) -> None:
    result = synth(name)
    policy = guard(result)
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny" and statement["Resource"] == "*"
    assert statement["Action"] == ["sagemaker:AddTags", "sagemaker:DeleteTags"]
    # Any request naming a guarded key, among others or alone, in any case
    assert statement["Condition"] == {
        "ForAnyValue:StringEqualsIgnoreCase": {"aws:TagKeys": [owner_tag, "studioportal:revoked"]}}
    assert "Roles" not in policy["Properties"] and "Users" not in policy["Properties"]  # attached by the operator
    assert result.json["Outputs"]["OwnerTagGuardPolicyArn"]["Value"] == {"Ref": result.logical_id(
        "AWS::IAM::ManagedPolicy")}
    # And parliament, reading it against the Service Authorization Reference, finds nothing
    assert findings(policy["Properties"]["PolicyDocument"]) == []


def test_parliament_would_report_a_key_the_actions_do_not_have(synth) -> None:
    # The check above can fail: a misspelt condition key or action is reported
    document = json.loads(json.dumps(guard(synth("default"))["Properties"]["PolicyDocument"]))
    document["Statement"][0]["Condition"] = {"ForAnyValue:StringEquals": {"aws:TagKey": ["studiouserid"]}}
    assert ("UNKNOWN_CONDITION_FOR_ACTION", "Unknown condition aws:TagKey for action sagemaker:AddTags") in findings(
        document)
    document["Statement"][0]["Action"] = ["sagemaker:AddTag"]
    assert [issue for issue, _ in findings(document)] == ["UNKNOWN_ACTION"]


def test_the_documented_scp_is_the_same_guard_with_exemptions(synth) -> None:
    scp = scp_from_doc()
    assert findings(scp) == []
    (statement,) = scp["Statement"]
    (managed,) = guard(synth("default"))["Properties"]["PolicyDocument"]["Statement"]
    # The same effect, actions, resource and tag condition as the stack's policy...
    for key in ("Effect", "Action", "Resource"):
        assert statement[key] == managed[key]
    condition = dict(statement["Condition"])
    exempt = condition.pop("ArnNotLike")
    assert condition == managed["Condition"]
    # ...and an exemption for the portal's own role, whose provisioning tags new profiles
    assert "arn:aws:iam::*:role/SageMakerStudioPortal-PortalRole*" in exempt["aws:PrincipalArn"]


def test_the_function_role_name_starts_as_the_scp_exemption_says(synth) -> None:
    # CloudFormation names a role <stack name>-<logical id>-<suffix>: the SCP's pattern matches the function's
    result = synth("default")
    role = result.function["Properties"]["Role"]["Fn::GetAtt"][0]
    assert role.startswith("PortalRole") and "RoleName" not in result.json["Resources"][role]["Properties"]


def test_a_doc_without_the_scp_is_noticed(tmp_path: Path) -> None:
    broken = tmp_path / "deploy.md"
    broken.write_text(DOC.read_text().replace('"Version": "2012-10-17"', '"Versio": "2012-10-17"'))
    with pytest.raises(ValueError):
        scp_from_doc(broken)
