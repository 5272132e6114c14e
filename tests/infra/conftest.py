"""Synthesizes the CDK app once per configuration and shares the result across the infrastructure tests.

Bundling is skipped (``aws:cdk:bundling-stacks: []``) except in test_bundling.py, and CDK's built-in
CloudFormation validation (slow to load) runs in one test only, so the whole tier stays around a minute.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

# Node 20 is what this machine has; jsii's end-of-life banner would fill every test's output.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

from aws_cdk import App, Environment
from aws_cdk.assertions import Template

from infra.config import PortalConfig
from infra.nag import apply_checks
from infra.stack import PortalStack

ROOT = Path(__file__).resolve().parents[2]
CDK_JSON_CONTEXT: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]

DOMAIN = "d-abc123def456"
CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
IDP_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:entra-client-AbCdEf"
BYO_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:okta-portal-AbCdEf"
BYO_KEY = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:ops-alarms"

# Several Studio domains (the `targets` key): one in the stack's account and region that provisions, one in
# the stack's account in another region, and two in another account reached through a role (one of them
# with session tags and provisioning of its own).
EXECUTION_ROLE = "arn:aws:iam::123456789012:role/service-role/SageMakerExecution"
TEAM_ROLE = "arn:aws:iam::210987654321:role/StudioPortalLaunch"
AUDIT_ROLE = "arn:aws:iam::345678901234:role/studio/PortalAccess"
TARGETS: list[dict[str, Any]] = [
    {"id": "ds", "label": "Data science", "domain_id": "d-aaaaaaaaaaaa", "groups": ["data-science"],
     "provision": {"execution_role_arn": EXECUTION_ROLE, "email_domains": ["example.com"], "tags": {"cost-center": "ds", "team": "analytics"},
                   "user_settings": {"DefaultLandingUri": "studio::"}}},
    {"id": "eu-research", "label": "Research (Frankfurt)", "domain_id": "d-cccccccccccc", "region": "eu-central-1",
     "profile": "{email}-research"},
    {"id": "ml-prod", "label": "ML production", "domain_id": "d-bbbbbbbbbbbb", "region": "eu-west-1",
     "role_arn": TEAM_ROLE, "tag_session": True, "profile": "{email}-prod", "groups": ["ml-engineers"],
     "provision": {"execution_role_arn": "arn:aws:iam::210987654321:role/SageMakerExecution",
                   "email_domains": ["example.com"],
                   "tags": {"cost-center": "ml"}}},
    {"id": "audit", "label": "Audit", "domain_id": "d-dddddddddddd", "role_arn": AUDIT_ROLE},
]

# Every option is on in at least one configuration and off in "default"; values arrive as strings, the
# way `cdk synth -c key=value` passes them.
CONFIGS: dict[str, dict[str, Any]] = {
    "default": {},
    "saml": {
        "domainId": DOMAIN, "federation": "saml", "samlMetadataUrl": "https://idp.example.com/app/metadata.xml",
        "customDomainName": "studio.example.com", "certificateArn": CERTIFICATE,
        "hostedZoneId": "Z0123456789ABCDEFGHIJ", "hostedZoneName": "example.com",
        "allowedCidrs": "10.0.0.0/8,203.0.113.0/24", "enforceOwnerTagInIam": "true",
        "alarmEmail": "ops@example.com", "reservedConcurrency": "20", "cognitoFeaturePlan": "plus",
        "cognitoDomainPrefix": "acme-studio", "cognitoMfa": "optional", "wafRateLimit": "2000",
        "cognitoClientGeneration": "3", "samlIdpSignout": "true",
        "loginInitiators": "https://acme.okta.com", "portalTitle": "Acme ML", "helpdesk": "mailto:ml-help@acme.example",
        "oidcAuthorizeParams": "prompt=login",
    },
    "oidc-federation": {
        "domainId": DOMAIN, "federation": "oidc", "federationProviderName": "EntraID",
        "federationOidcIssuer": "https://login.microsoftonline.com/contoso/v2.0",
        "federationOidcClientId": "00000000-aaaa-bbbb-cccc-000000000000", "federationOidcClientSecretArn": IDP_SECRET,
        "customDomainName": "portal.studio.example.org", "certificateArn": CERTIFICATE,
        "waf": "false", "alarmTopicArn": TOPIC, "apiGatewayCloudWatchRole": "false", "logRetentionDays": "30",
        "stageName": "v1", "throttleRateLimit": "5", "throttleBurstLimit": "10", "cognitoMfa": "off",
    },
    "byo-oidc-private": {
        "domainId": DOMAIN, "identitySource": "oidc", "oidcIssuer": "https://acme.okta.com/oauth2/default",
        "oidcClientId": "0oa1b2c3d4", "oidcClientSecretArn": BYO_SECRET, "oidcClientSecretKmsKeyArn": BYO_KEY,
        "endpointType": "private", "vpcEndpointIds": "vpce-0123456789abcdef0,vpce-0fedcba9876543210",
        "allowedCidrs": ["10.0.0.0/8"], "enforceOwnerTagInIam": True, "ownerTag": "owner-email",
        "identityClaim": "preferred_username", "urlExpiresSeconds": "60", "studioSessionSeconds": "3600",
        "portalSessionSeconds": "3600", "ownershipCacheSeconds": "0", "logLevel": "debug",
        "requireVerifiedEmail": "false", "oidcAuthorizeParams": "domain_hint=acme.example&acr_values=phr mfa",
    },
    # Local users, with invitations sent through SES, and threat protection declined explicitly
    "local-ses": {
        "domainId": DOMAIN, "cognitoEmailFrom": "studio-portal@corp.example", "cognitoEmailSesRegion": "eu-west-1",
        "cognitoFeaturePlan": "essentials",
    },
    # -c targets='[...]' (a JSON string), next to the placeholder domainId that cdk.json ships
    "targets": {"targets": json.dumps(TARGETS)},
    # targets as cdk.json holds them (a real JSON list), with the owner tag enforced by IAM as well
    "targets-enforced": {"targets": TARGETS, "domainId": "", "enforceOwnerTagInIam": True,
                         "ownerTag": "owner-email"},
}


@dataclass
class Synth:
    name: str
    app: App
    stack: PortalStack
    config: PortalConfig
    template_path: Path
    json: dict[str, Any] = field(repr=False)

    @property
    def template(self) -> Template:
        return Template.from_json(self.json)

    def resources(self, cfn_type: str) -> dict[str, dict[str, Any]]:
        return {key: value for key, value in self.json["Resources"].items() if value["Type"] == cfn_type}

    def one(self, cfn_type: str) -> dict[str, Any]:
        found = self.resources(cfn_type)
        assert len(found) == 1, f"expected one {cfn_type}, found {list(found)}"
        return next(iter(found.values()))

    @property
    def function(self) -> dict[str, Any]:
        return self.one("AWS::Lambda::Function")

    @property
    def env(self) -> dict[str, Any]:
        return self.function["Properties"]["Environment"]["Variables"]

    def logical_id(self, cfn_type: str) -> str:
        found = self.resources(cfn_type)
        assert len(found) == 1
        return next(iter(found))


def context_for(overrides: dict[str, Any], *, bundling: bool = False) -> dict[str, Any]:
    context = {**CDK_JSON_CONTEXT, **overrides}
    if not bundling:
        context["aws:cdk:bundling-stacks"] = []
    return context


def build(name: str, overrides: dict[str, Any], outdir: Path, *, nag: bool = True, validation: bool = False,
          bundling: bool = False, env: Environment | None = None) -> Synth:
    app = App(context=context_for(overrides, bundling=bundling), outdir=str(outdir),
              builtin_cloud_formation_validation=validation)
    config = PortalConfig.from_context(app.node.try_get_context, list(app.node.get_all_context()))
    stack = PortalStack(app, config.stack_name, config=config, env=env)
    if nag:
        apply_checks(app)
    assembly = app.synth()
    template_path = Path(assembly.get_stack_artifact(stack.artifact_id).template_full_path)
    return Synth(name=name, app=app, stack=stack, config=config, template_path=template_path,
                 json=json.loads(template_path.read_text()))


_CACHE: dict[str, Synth] = {}


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory):
    """``synth("saml")``: the configuration's synthesized stack, built once per test session."""

    def get(name: str) -> Synth:
        if name not in _CACHE:
            _CACHE[name] = build(name, CONFIGS[name], tmp_path_factory.mktemp(f"cdk-{name}"))
        return _CACHE[name]

    return get


def statements(synth_result: Synth, logical_id_prefix: str) -> list[dict[str, Any]]:
    """All statements of the IAM policies attached to roles whose logical id starts with the prefix."""
    found = []
    for policy in synth_result.resources("AWS::IAM::Policy").values():
        roles = [role.get("Ref", "") for role in policy["Properties"]["Roles"]]
        if any(role.startswith(logical_id_prefix) for role in roles):
            found += policy["Properties"]["PolicyDocument"]["Statement"]
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def refs(value: Any) -> set[str]:
    """Every logical id a template fragment refers to (Ref, Fn::GetAtt, ${...} in Fn::Sub)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str):
                found.add(item)
            elif key == "Fn::GetAtt":
                found.add(item[0] if isinstance(item, list) else item.split(".")[0])
            else:
                found |= refs(item)
    elif isinstance(value, list):
        for item in value:
            found |= refs(item)
    return found


def flat(value: Any) -> str:
    """A template value as one string: ``{"Ref": "X"}`` -> ``<X>``, ``Fn::GetAtt`` -> ``<X.Attr>``, joins joined."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        delimiter, items = value["Fn::Join"]
        return delimiter.join(flat(item) for item in items)
    if isinstance(value, dict) and "Ref" in value:
        return f"<{value['Ref']}>"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return "<{}.{}>".format(*value["Fn::GetAtt"])
    raise AssertionError(f"unexpected template value {value!r}")
