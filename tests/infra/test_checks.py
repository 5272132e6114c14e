"""The tools AWS users trust: cdk-nag (AWS Solutions) and cfn-lint, on every configuration."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest
from aws_cdk import App, Environment
from cdk_nag import AwsSolutionsChecks
from cfnlint.api import ManualArgs, lint_file

import infra.nag
from infra.config import PortalConfig
from infra.stack import PortalStack
from tests.infra.conftest import CONFIGS, build, context_for

pytestmark = pytest.mark.infra

NAMES = list(CONFIGS)


@pytest.mark.parametrize("name", NAMES)
def test_cdk_nag_reports_nothing_unacknowledged(synth, name: str) -> None:
    # Given the synthesized app (synth would have failed on an unacknowledged error)
    result = synth(name)
    # When the AWS Solutions pack checks it again, directly
    report = AwsSolutionsChecks(verbose=True).validate_scope(result.app)
    # Then there is no finding at all, warnings included
    assert report.success
    assert [(v.rule_name, [r.construct_path for r in v.violating_resources]) for v in report.violations] == []
    validation = json.loads((result.template_path.parent / "validation-report.json").read_text()) if (
        result.template_path.parent / "validation-report.json").exists() else {"pluginReports": []}
    for plugin in validation["pluginReports"]:
        if plugin["pluginName"] == "AwsSolutions":
            assert plugin["violations"] == []


@pytest.mark.parametrize("name", NAMES)
def test_every_acknowledgement_has_a_reason_in_the_template(synth, name: str) -> None:
    result = synth(name)
    acknowledged = 0
    for resource in result.json["Resources"].values():
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []):
            acknowledged += 1
            assert rule["id"].startswith("AwsSolutions-") and "[" not in rule["id"]
            assert len(rule["reason"]) >= 40, rule
            if rule["id"] in ("AwsSolutions-IAM4", "AwsSolutions-IAM5"):
                assert rule["applies_to"], rule  # granular: names the accepted findings
    assert acknowledged > 0


class _RecordingValidations:
    """Stands in for aws_cdk.Validations: records what the stack acknowledges instead of acknowledging it."""

    recorded: list[tuple[str, str]] = []

    def __init__(self, scope) -> None:
        self.scope = scope

    @classmethod
    def of(cls, scope):
        return cls(scope)

    def acknowledge(self, *rules) -> None:
        for rule in rules:
            self.recorded.append((self.scope.node.path, rule.id))


@pytest.mark.parametrize("name", NAMES)
def test_every_acknowledgement_answers_a_real_finding(monkeypatch, name: str) -> None:
    # Given the stack built with acknowledgements recorded but not applied
    _RecordingValidations.recorded = []
    monkeypatch.setattr(infra.nag, "Validations", _RecordingValidations)
    app = App(context=context_for(CONFIGS[name]), builtin_cloud_formation_validation=False)
    config = PortalConfig.from_context(app.node.try_get_context, list(app.node.get_all_context()))
    PortalStack(app, config.stack_name, config=config)
    # When cdk-nag checks it
    findings: dict[str, list[str]] = defaultdict(list)
    for violation in AwsSolutionsChecks().validate_scope(app).violations:
        findings[violation.rule_name] += [resource.construct_path for resource in violation.violating_resources]
    # Then each acknowledgement sits on the very resource that has the finding: none is stale or too broad
    assert _RecordingValidations.recorded
    for path, rule_id in _RecordingValidations.recorded:
        assert path in findings.get(rule_id, []), f"{rule_id} acknowledged on {path} but not reported there"
    # And every finding is acknowledged (the synth tests prove the same through the real mechanism)
    assert {(path, rule_id) for rule_id, paths in findings.items() for path in paths} == set(
        _RecordingValidations.recorded)


@pytest.mark.parametrize("name", NAMES)
def test_cfn_lint_is_clean(synth, name: str) -> None:
    template = synth(name).template_path
    matches = lint_file(template, config=ManualArgs(regions=["us-east-1", "eu-west-1", "ap-southeast-2"]))
    # Informational (I...) findings are advice, not defects; errors and warnings fail.
    assert [str(match) for match in matches if not match.rule.id.startswith("I")] == []


def test_a_stack_bound_to_an_account_and_region_is_clean_too(tmp_path: Path) -> None:
    # Given the environment the CLI passes when it finds credentials (CDK_DEFAULT_ACCOUNT/REGION)
    result = build("saml", CONFIGS["saml"], tmp_path, env=Environment(account="123456789012", region="eu-west-1"))
    # Then the ARNs are literal, and cdk-nag and cfn-lint still find nothing
    assert AwsSolutionsChecks().validate_scope(result.app).violations == []
    assert [str(m) for m in lint_file(result.template_path, config=ManualArgs(regions=["eu-west-1"]))
            if not m.rule.id.startswith("I")] == []
    policies = json.dumps(result.resources("AWS::IAM::Policy"))
    assert ":user-profile/d-abc123def456/*" in policies and "eu-west-1" in policies and "123456789012" in policies


def test_cdk_built_in_cloudformation_validation_finds_no_error(tmp_path: Path) -> None:
    # cdk.json turns on @aws-cdk/core:validateAgainstDefaultRules, so `cdk synth` fails on its errors too
    result = build("default", CONFIGS["default"], tmp_path, validation=True)
    report = json.loads((result.template_path.parent / "validation-report.json").read_text())
    for plugin in report["pluginReports"]:
        errors = [violation for violation in plugin["violations"] if violation["severity"] in ("error", "fatal")]
        assert errors == [], plugin["pluginName"]
        if plugin["pluginName"] != "Construct Annotations":
            assert plugin["violations"] == [], plugin
    # The one warning is ours: the placeholder domain id shipped in cdk.json
    (annotations,) = [plugin for plugin in report["pluginReports"] if plugin["pluginName"] == "Construct Annotations"]
    assert [violation["ruleName"] for violation in annotations["violations"]] == [
        "Annotation::portal:placeholder-domain"]


def _documents(resource: dict) -> list[dict]:
    properties = resource["Properties"]
    if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        return [properties["PolicyDocument"]]
    return [policy["PolicyDocument"] for policy in properties.get("Policies", [])]


@pytest.mark.parametrize("name", NAMES)
def test_every_wildcard_acknowledgement_names_every_action_it_covers(synth, name: str) -> None:
    # Given each IAM5 acknowledgement in the template, with the findings (resources) it accepts
    result = synth(name)
    checked = 0
    for resource in result.json["Resources"].values():
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []):
            if rule["id"] != "AwsSolutions-IAM5":
                continue
            for finding in rule["applies_to"]:
                # When we collect every action the resource's policies allow on that resource
                actions = {action for document in _documents(resource) for statement in document["Statement"]
                           if statement["Effect"] == "Allow" and finding in {
                               "Resource::" + infra.nag.flatten(item) for item in
                               (statement["Resource"] if isinstance(statement["Resource"], list)
                                else [statement["Resource"]])}
                           for action in (statement["Action"] if isinstance(statement["Action"], list)
                                          else [statement["Action"]])}
                # Then the reason names each of them: the audit text is what the policy grants
                assert actions, (finding, rule["reason"])
                assert [action for action in sorted(actions) if action not in rule["reason"]] == [], rule["reason"]
                checked += 1
    assert checked >= 2
