"""cdk-nag: the AWS Solutions rules check every resource of the app at synth.

cdk-nag 3 is a CDK policy validation plugin: an unacknowledged error fails ``cdk synth`` (and ``cdk deploy``),
and every finding, acknowledged or not, is written to the validation report in ``cdk.out/``. The acknowledged
rules and their reasons are also written into each resource's ``Metadata.cdk_nag`` in the template, so that a
reviewer reading the template sees why.

Acknowledgements are made next to the resource they concern, through :func:`suppress`, which insists on a
real reason and, for the granular IAM rules, on naming each accepted finding, so that a wildcard added later
is still reported.
"""

from __future__ import annotations

import re
from typing import Any

import jsii
from aws_cdk import Acknowledgment, App, Aspects, CfnResource, IAspect, Stack, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

_GRANULAR_RULES = ("AwsSolutions-IAM4", "AwsSolutions-IAM5")


def apply_checks(app: App) -> None:
    """Run AwsSolutionsChecks over the whole app, explaining each finding, and record acknowledgements in
    the templates' metadata."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    Aspects.of(app).add(AcknowledgementsInTemplate())


_GRANULAR_ID = re.compile(r"^(?P<rule>[A-Za-z]+-[A-Za-z0-9]+)\[(?P<finding>.+)\]$")


@jsii.implements(IAspect)
class AcknowledgementsInTemplate:
    """Writes each resource's acknowledged rules into its template ``Metadata.cdk_nag.rules_to_suppress``,
    in the format cdk-nag has always used there (``id``, ``reason``, ``applies_to`` for granular findings),
    so the reasons travel with the template and tools reading that block (cdk-nag on an included template)
    honour them."""

    def visit(self, node: IConstruct) -> None:
        if not CfnResource.is_cfn_resource(node):
            return
        rules: dict[tuple[str, str], list[str]] = {}
        scope: IConstruct | None = node
        while scope is not None:
            for entry in scope.node.metadata:
                if entry.type != Validations.ACKNOWLEDGED_RULES_METADATA_KEY or not entry.data:
                    continue
                for qualified_id, reason in dict(entry.data).items():
                    rule_id = re.sub(r"^annotation::", "", qualified_id, flags=re.IGNORECASE)
                    match = _GRANULAR_ID.match(rule_id)
                    key = (match["rule"], reason) if match else (rule_id, reason)
                    findings = rules.setdefault(key, [])
                    if match and match["finding"] not in findings:
                        findings.append(match["finding"])
            scope = scope.node.scope
        if rules:
            assert isinstance(node, CfnResource)
            node.add_metadata("cdk_nag", {"rules_to_suppress": [
                {"id": rule_id, "reason": reason, **({"applies_to": findings} if findings else {})}
                for (rule_id, reason), findings in rules.items()
            ]})


def suppress(construct: IConstruct, rule_id: str, reason: str, *, findings: list[str] | None = None) -> None:
    """Acknowledge one cdk-nag rule on ``construct``'s CloudFormation resource with a written reason.

    IAM4/IAM5 report one finding per managed policy or wildcard (``Resource::*``, ``Policy::arn:...``); each
    accepted one must be listed in ``findings``.
    """
    if len(reason.strip()) < 40:
        raise ValueError(f"acknowledging {rule_id} needs a real reason, got {reason!r}")
    if rule_id in _GRANULAR_RULES and not findings:
        raise ValueError(f"{rule_id} acknowledgements must name the findings they accept")
    ids = [f"{rule_id}[{finding}]" for finding in findings] if findings else [rule_id]
    # On the CloudFormation resource itself, not the whole subtree of an L2 construct: an acknowledgement
    # must not silently cover resources added under it later.
    child = construct.node.default_child
    target = child if child is not None and CfnResource.is_cfn_resource(child) else construct
    Validations.of(target).acknowledge(*(Acknowledgment(id=rule_id_, reason=reason) for rule_id_ in ids))


def resource_finding(scope: IConstruct, value: str) -> str:
    """The IAM5 finding cdk-nag reports for a resource with a wildcard: ``Resource::<flattened ARN>``."""
    return "Resource::" + flatten(Stack.of(scope).resolve(value))


def policy_finding(scope: IConstruct, managed_policy_arn: str) -> str:
    """The IAM4 finding cdk-nag reports for an AWS managed policy: ``Policy::<flattened ARN>``."""
    return "Policy::" + flatten(Stack.of(scope).resolve(managed_policy_arn))


def flatten(node: Any) -> str:
    """cdk-nag's flattenCfnReference: ``{"Ref": "AWS::Region"}`` -> ``<AWS::Region>``, joins joined."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if "Fn::Join" in node:
            delimiter, items = node["Fn::Join"]
            return delimiter.join(flatten(item) for item in items)
        if "Fn::Sub" in node:
            return flatten(node["Fn::Sub"])
        if "Fn::GetAtt" in node:
            resource, attribute = node["Fn::GetAtt"]
            return f"<{flatten(resource)}.{flatten(attribute)}>"
        if "Fn::ImportValue" in node:
            return flatten(node["Fn::ImportValue"])
        if "Ref" in node:
            return f"<{flatten(node['Ref'])}>"
    raise ValueError(f"cannot flatten {node!r} the way cdk-nag does")
