"""One template for any region: without CDK_DEPLOY_ACCOUNT/CDK_DEPLOY_REGION nothing in it names a region or
an account except what the operator's own values name; with them, given ARNs must be in the stack's region."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Environment
from cfnlint.api import ManualArgs, lint_file

from infra.config import ConfigError
from tests.infra.conftest import CDK_JSON_CONTEXT, CERTIFICATE, CONFIGS, IDP_SECRET, build, flat
from tests.infra.test_config import app_run

pytestmark = pytest.mark.infra

REGION = re.compile(r"\b(?:[a-z]{2}(?:-gov|-iso[a-z]?)?-(?:north|south|east|west|central|northeast|northwest|"
                    r"southeast|southwest)-\d)\b")
ACCOUNT = re.compile(r"(?<![0-9a-f])\d{12}(?![0-9a-f])")


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for key, item in value.items() for text in [key, *strings(item)]]
    if isinstance(value, list):
        return [text for item in value for text in strings(item)]
    return []


def literals(template: dict[str, Any], pattern: re.Pattern[str]) -> set[str]:
    # Metadata holds cdk-nag's reasons and construct paths, not anything CloudFormation deploys
    resources = {key: {k: v for k, v in value.items() if k != "Metadata"} for key, value in
                 template["Resources"].items()}
    deployed = {**template, "Resources": resources}
    deployed.pop("Metadata", None)
    return {match for text in strings(deployed) for match in pattern.findall(text)}


def test_the_cli_fallback_region_and_account_stay_out_of_the_template(tmp_path: Path) -> None:
    # Given app.py run the way `make synth` runs it on a machine without AWS configuration: the CLI sets
    # CDK_DEFAULT_REGION=us-east-1 (its fallback) and, with credentials, CDK_DEFAULT_ACCOUNT
    result = app_run({**CDK_JSON_CONTEXT, "aws:cdk:bundling-stacks": []}, outdir=tmp_path,
                     env={"CDK_DEFAULT_REGION": "us-east-1", "CDK_DEFAULT_ACCOUNT": "111111111111"})
    assert result.returncode == 0, result.stderr
    template = json.loads((tmp_path / "SageMakerStudioPortal.template.json").read_text())
    # Then no region and no account is written into it
    assert literals(template, REGION) == set()
    assert literals(template, ACCOUNT) == set()
    text = json.dumps(template)
    assert "us-east-1" not in text and "111111111111" not in text
    # And the issuer, the ARNs and the asset's location resolve at deploy time
    (function,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    assert flat(function["Properties"]["Environment"]["Variables"]["PORTAL_OIDC_ISSUER"]).startswith(
        "https://cognito-idp.<AWS::Region>.<AWS::URLSuffix>/")
    assert function["Properties"]["Code"]["S3Bucket"] == {"Fn::Sub": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"}
    policies = json.dumps([r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Policy"])
    assert '"aws:RequestedRegion": {"Ref": "AWS::Region"}' in policies or \
        '"aws:RequestedRegion": [{"Ref": "AWS::Region"}]' in policies


@pytest.mark.parametrize("name", list(CONFIGS))
def test_only_the_operators_own_values_name_regions_or_accounts(synth, name: str) -> None:
    # Given each documented configuration synthesized without an environment
    given = json.dumps(CONFIGS[name])
    template = synth(name).json
    # Then every region or account in the template comes from a value the operator gave (an ARN, a target)
    assert literals(template, REGION) <= set(REGION.findall(given))
    assert literals(template, ACCOUNT) <= set(ACCOUNT.findall(given))


def test_an_explicit_region_is_used_and_checked_against_given_arns(tmp_path: Path) -> None:
    # Given CDK_DEPLOY_REGION: the stack is bound to it
    good = app_run({**CDK_JSON_CONTEXT, "aws:cdk:bundling-stacks": []}, outdir=tmp_path,
                   env={"CDK_DEPLOY_REGION": "ap-southeast-2", "CDK_DEFAULT_REGION": "us-east-1"})
    assert good.returncode == 0, good.stderr
    template_path = tmp_path / "SageMakerStudioPortal.template.json"
    template = json.loads(template_path.read_text())
    assert literals(template, REGION) == {"ap-southeast-2"}
    # cfn-lint, for that region, finds nothing either
    assert [str(match) for match in lint_file(template_path, config=ManualArgs(regions=["ap-southeast-2"]))
            if not match.rule.id.startswith("I")] == []
    # And a certificate (or secret, or key) from another region is refused, naming the key and both regions
    bad = app_run({**CDK_JSON_CONTEXT, **CONFIGS["saml"]}, env={"CDK_DEPLOY_REGION": "eu-central-1"})
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert (f"certificateArn: got '{CERTIFICATE}', which is in eu-west-1; expected a resource in the stack's "
            "region eu-central-1 (CDK_DEPLOY_REGION)") in bad.stderr


@pytest.mark.parametrize("name", ["oidc-federation", "byo-oidc-private"])
def test_each_regional_arn_is_checked(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError) as raised:
        build(name, CONFIGS[name], tmp_path, nag=False, env=Environment(region="us-west-2"))
    keys = {problem.split(":")[0] for problem in raised.value.problems}
    expected = {"oidc-federation": {"certificateArn", "federationOidcClientSecretArn"},
                "byo-oidc-private": {"oidcClientSecretArn", "oidcClientSecretKmsKeyArn"}}[name]
    assert keys == expected
    # In their own region they synthesize, with no deploy-time rule needed
    result = build(name, CONFIGS[name], tmp_path / "ok", nag=False, env=Environment(region="eu-west-1"))
    assert "DeployedWhereTheGivenResourcesAre" not in result.json.get("Rules", {})


def test_without_a_region_the_template_asserts_where_given_arns_live(synth, tmp_path: Path) -> None:
    # Given ARNs in eu-west-1 and no environment: the template may only be deployed to eu-west-1
    rule = synth("oidc-federation").json["Rules"]["DeployedWhereTheGivenResourcesAre"]
    (assertion,) = rule["Assertions"]
    assert assertion["Assert"] == {"Fn::Equals": [{"Ref": "AWS::Region"}, "eu-west-1"]}
    assert "deploy this stack to eu-west-1" in assertion["AssertDescription"]
    assert "DeployedWhereTheGivenResourcesAre" not in synth("default").json.get("Rules", {})
    # And ARNs from two regions cannot both be right: refused at synth
    with pytest.raises(ConfigError, match="are in different regions"):
        build("mixed", {**CONFIGS["oidc-federation"], "federationOidcClientSecretArn":
                        IDP_SECRET.replace("eu-west-1", "us-west-2")}, tmp_path, nag=False)
