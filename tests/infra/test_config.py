"""CDK context validation: every bad value stops synth with a message naming the key and what is allowed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from typing import Any

import pytest

from infra.config import PLACEHOLDER_DOMAIN_ID, ConfigError, OidcFederation, PortalConfig, SamlFederation
from tests.infra.conftest import BYO_SECRET, CDK_JSON_CONTEXT, CONFIGS, ROOT, TARGETS

pytestmark = pytest.mark.infra


def read(**overrides: Any) -> PortalConfig:
    return PortalConfig.from_mapping({**CDK_JSON_CONTEXT, **overrides})


def problems(**overrides: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        read(**overrides)
    return str(caught.value)


def test_your_own_issuer_is_passed_on_exactly_a_final_slash_included() -> None:
    byo = {**CONFIGS["byo-oidc-private"], "oidcIssuer": "https://tenant.auth0.example/"}
    assert read(**byo).external_oidc.issuer == "https://tenant.auth0.example/"


def test_authorize_params_reach_your_own_issuer_as_given_within_the_bound() -> None:
    byo = {key: value for key, value in CONFIGS["byo-oidc-private"].items() if key != "oidcAuthorizeParams"}
    # Your own issuer may name an upstream provider of its own; 500 bytes encoded is the most
    given = "identity_provider=corp&domain_hint=" + "a" * 465
    assert read(**byo, oidcAuthorizeParams=given).oidc_authorize_params == (
        ("identity_provider", "corp"), ("domain_hint", "a" * 465))
    assert read(**byo).oidc_authorize_params == read(**byo, oidcAuthorizeParams=" ").oidc_authorize_params == ()


def test_cdk_json_defaults_are_valid_and_documented() -> None:
    # Given the context shipped in cdk.json / When it is read
    config = read()
    # Then it is the documented default deployment
    assert config.domain_id == PLACEHOLDER_DOMAIN_ID and config.uses_placeholder_domain
    assert config.identity_source == "cognito" and config.cognito is not None
    assert config.cognito.federation is None and config.cognito.mfa == "required"
    assert config.cognito.feature_plan == "plus" and config.cognito.domain_prefix is None
    assert (config.url_expires_seconds, config.studio_session_seconds, config.portal_session_seconds) == (
        30, 43200, 3600)
    assert config.function_environment["PORTAL_OWNERSHIP_CACHE_SECONDS"] == "60"
    assert config.identity_claim == "email" and config.owner_tag == "studiouserid"
    assert not config.enforce_owner_tag_in_iam and config.require_verified_email
    assert config.network.endpoint_type == "regional" and not config.network.restricted
    assert config.waf.enabled and config.waf.rate_limit == 1000
    assert config.log_retention_days == 365 and config.log_level == "INFO"
    assert config.custom_domain is None and config.reserved_concurrency is None
    assert config.api_gateway_cloudwatch_role and config.stage_name == "prod"
    deploy_doc = (ROOT / "docs" / "deploy.md").read_text()
    from infra.config import DEFAULTS

    undocumented = [key for key in DEFAULTS if f"`{key}`" not in deploy_doc]
    assert not undocumented, f"context keys missing from docs/deploy.md: {undocumented}"


def test_every_test_configuration_is_valid() -> None:
    for overrides in CONFIGS.values():
        read(**overrides)


def test_strings_from_the_command_line_are_converted() -> None:
    # Given -c values, which always arrive as strings
    config = read(enforceOwnerTagInIam="true", waf="no", urlExpiresSeconds="300",
                  allowedCidrs="10.0.0.0/8, 192.168.0.0/16", reservedConcurrency="5", logLevel="warning")
    # Then they have their proper types
    assert config.enforce_owner_tag_in_iam is True and config.waf.enabled is False
    assert config.url_expires_seconds == 300 and config.reserved_concurrency == 5
    assert config.network.allowed_cidrs == ("10.0.0.0/8", "192.168.0.0/16")
    assert config.log_level == "WARNING"
    assert read(allowedCidrs='["10.1.0.0/16"]').network.allowed_cidrs == ("10.1.0.0/16",)


def test_empty_values_fall_back_to_defaults() -> None:
    assert read(customDomainName="", certificateArn="").custom_domain is None


def test_federation_settings_are_typed() -> None:
    saml = read(**CONFIGS["saml"]).cognito
    assert saml is not None and isinstance(saml.federation, SamlFederation)
    oidc = read(**CONFIGS["oidc-federation"]).cognito
    assert oidc is not None and isinstance(oidc.federation, OidcFederation)
    assert oidc.federation.provider_name == "EntraID"


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"domainId": "D-ABC"}, "domainId: got 'D-ABC'; expected a SageMaker Studio domain id matching d-(-*[a-z0-9]){1,61}"),
    ({"domainId": "d-"}, "domainId"),
    ({"domainId": "d-" + "a" * 62}, "domainId"),
    ({"domainId": None}, "domainId: is required"),
    ({"identitySource": "saml"}, "identitySource: got 'saml'; expected one of cognito, oidc"),
    ({"federation": "okta"}, "federation: got 'okta'; expected one of none, saml, oidc"),
    ({"federation": "saml"}, "samlMetadataUrl: is required"),
    ({"federation": "saml", "samlMetadataUrl": "http://idp.example.com/m.xml"}, "samlMetadataUrl: got "),
    ({"federation": "oidc"}, "federationOidcIssuer: is required"),
    ({"federation": "oidc", "federationOidcIssuer": "https://idp", "federationOidcClientId": "x",
      "federationOidcClientSecretArn": "my-secret"}, "federationOidcClientSecretArn: got 'my-secret'"),
    ({"federationProviderName": "Okta"}, "federationProviderName: applies only with federation=saml or federation=oidc"),
    ({"loginInitiators": "http://acme.okta.com"}, "loginInitiators: got 'http://acme.okta.com'"),
    # The function's own parser: the portal's parameters, malformed query strings, twice the same name
    ({"oidcAuthorizeParams": "State=x"}, "oidcAuthorizeParams: may not set State: the portal sets it"),
    ({"oidcAuthorizeParams": "code_challenge_method=plain"}, "oidcAuthorizeParams: may not set code_challenge_method"),
    ({"oidcAuthorizeParams": "request_uri=https://x"}, "oidcAuthorizeParams: may not set request_uri"),
    ({"oidcAuthorizeParams": "prompt"}, "oidcAuthorizeParams: must be a query string"),
    ({"oidcAuthorizeParams": "prompt=login&prompt=consent"}, "oidcAuthorizeParams: names a parameter more than once"),
    ({"oidcAuthorizeParams": {"prompt": "login"}}, "oidcAuthorizeParams: got {'prompt': 'login'}; expected a query "
                                                   "string such as domain_hint=corp.example"),
    ({"oidcAuthorizeParams": "prompt=none"}, "oidcAuthorizeParams: may not set prompt=none"),
    ({"oidcAuthorizeParams": "prompt=login&PROMPT=consent"}, "oidcAuthorizeParams: names a parameter more than once"),
    ({"oidcAuthorizeParams": "domain_hint=" + "a" * 489}, "oidcAuthorizeParams: is 501 bytes as "
                                                          "PORTAL_OIDC_AUTHORIZE_PARAMS, more than the 500"),
    # With federation the stack names the provider; a second name would contradict it. Without, the pool has only
    # its own users.
    ({"federation": "saml", "samlMetadataUrl": "https://idp.example.com/m.xml",
      "oidcAuthorizeParams": "identity_provider=Other"}, "oidcAuthorizeParams: may not set identity_provider with "
                                                         "identitySource=cognito: the stack names the federated"),
    ({"federation": "saml", "samlMetadataUrl": "https://idp.example.com/m.xml",
      "oidcAuthorizeParams": "prompt=login&IDP_Identifier=corp.example"}, "oidcAuthorizeParams: may not set "
                                                                          "IDP_Identifier with identitySource=cognito"),
    ({**CONFIGS["oidc-federation"], "oidcAuthorizeParams": "idp_identifier=contoso.com"},
     "oidcAuthorizeParams: may not set idp_identifier with identitySource=cognito: the stack names the federated"),
    ({"oidcAuthorizeParams": "identity_provider=Okta"}, "oidcAuthorizeParams: may not set identity_provider with "
                                                        "identitySource=cognito: the stack's user pool has no other"),
    ({"federation": "saml", "samlMetadataUrl": "https://idp.example.com/m.xml", "federationProviderName": "a b"},
     "federationProviderName: got 'a b'"),
    ({"identitySource": "oidc", "oidcIssuer": "https://i.example.com", "oidcClientId": "c",
      "oidcClientSecretArn": BYO_SECRET, "cognitoMfa": "off"}, "cognitoMfa: applies only with identitySource=cognito"),
    ({"identitySource": "oidc"}, "oidcIssuer: is required"),
    ({"identitySource": "oidc", "oidcIssuer": "https://i", "oidcClientId": "c",
      "oidcClientSecretArn": "arn:aws:s3:::bucket"}, "oidcClientSecretArn: got 'arn:aws:s3:::bucket'"),
    ({"identitySource": "oidc", "federation": "saml"}, "federation: applies only with identitySource=cognito"),
    ({"oidcIssuer": "https://idp.example.com"}, "oidcIssuer: applies only with identitySource=oidc"),
    ({"urlExpiresSeconds": "301"}, "urlExpiresSeconds: got '301'; expected a whole number of seconds from 5 to 300"),
    ({"urlExpiresSeconds": 4}, "urlExpiresSeconds: got 4; expected a whole number of seconds from 5 to 300"),
    ({"studioSessionSeconds": "1799"}, "studioSessionSeconds: got '1799'; expected a whole number of seconds "
                                       "from 1800 to 43200"),
    ({"studioSessionSeconds": "12h"}, "studioSessionSeconds: got '12h'"),
    ({"portalSessionSeconds": 10}, "portalSessionSeconds"),
    ({"ownershipCacheSeconds": "301"}, "ownershipCacheSeconds: got '301'; expected a whole number of seconds "
                                       "from 0 to 300"),
    ({"ownershipCacheSeconds": -1}, "ownershipCacheSeconds: got -1"),
    ({"enforceOwnerTagInIam": "maybe"}, "enforceOwnerTagInIam: got 'maybe'; expected true or false"),
    ({"ownerTag": "aws:owner"}, "ownerTag: got 'aws:owner'; expected a tag key not starting with aws:"),
    ({"ownerTag": "owner tag!"}, "ownerTag: got 'owner tag!'"),
    ({"identityClaim": "e mail"}, "identityClaim: got 'e mail'"),
    ({"groupsClaim": "my groups"}, "groupsClaim: got 'my groups'"),
    ({"customDomainName": "Studio.Example.com", "certificateArn": CONFIGS["saml"]["certificateArn"]},
     "customDomainName: got 'Studio.Example.com'; expected a lowercase DNS name"),
    ({"customDomainName": "studio.example.com"}, "certificateArn: is required with customDomainName"),
    ({"certificateArn": CONFIGS["saml"]["certificateArn"]}, "certificateArn: applies only together with "
                                                           "customDomainName"),
    ({"customDomainName": "studio.example.com", "certificateArn": CONFIGS["saml"]["certificateArn"],
      "hostedZoneId": "Z123"}, "hostedZoneId, hostedZoneName: give both"),
    ({"customDomainName": "studio.example.com", "certificateArn": CONFIGS["saml"]["certificateArn"],
      "hostedZoneId": "Z123", "hostedZoneName": "example.org"}, "hostedZoneName: got 'example.org'; expected a "
                                                                "zone that contains studio.example.com"),
    ({"cognitoEmailSesRegion": "eu-west-1"}, "cognitoEmailSesRegion: applies only with cognitoEmailFrom"),
    ({"cognitoEmailFrom": "studio portal"}, "cognitoEmailFrom: got 'studio portal'; expected an e-mail address"),
    ({"identitySource": "oidc", "oidcIssuer": "https://idp.example.com", "oidcClientId": "c",
      "oidcClientSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbCdEf",
      "cognitoEmailFrom": "a@corp.example"}, "cognitoEmailFrom: applies only with identitySource=cognito"),
    ({"endpointType": "edge"}, "endpointType: got 'edge'; expected one of regional, private"),
    ({"endpointType": "private"}, "vpcEndpointIds: is required with endpointType=private"),
    ({"vpcEndpointIds": "vpce-0123456789abcdef0"}, "vpcEndpointIds: applies only with endpointType=private"),
    ({"endpointType": "private", "vpcEndpointIds": "vpc-123"}, "vpcEndpointIds: got 'vpc-123'"),
    ({"endpointType": "private", "vpcEndpointIds": "vpce-0123456789abcdef0", "customDomainName": "a.example.com",
      "certificateArn": CONFIGS["saml"]["certificateArn"]}, "customDomainName: is not supported with "
                                                            "endpointType=private"),
    ({"allowedCidrs": "10.0.0.1/8"}, "allowedCidrs: got '10.0.0.1/8'; expected a network address, but 10.0.0.1/8 "
                                     "has host bits set: the /8 network containing it is 10.0.0.0/8; a single "
                                     "address is 10.0.0.1/32"),
    ({"allowedCidrs": "2001:db8::1/64"}, "the /64 network containing it is 2001:db8::/64; a single address is "
                                         "2001:db8::1/128"),
    ({"allowedCidrs": "corp"}, "allowedCidrs: got 'corp'; expected IPv4 or IPv6 networks in CIDR notation"),
    ({"allowedCidrs": 42}, "allowedCidrs: got 42; expected a list of strings"),
    ({"waf": "on"}, "waf: got 'on'; expected true or false"),
    ({"wafRateLimit": "5"}, "wafRateLimit: got '5'; expected a whole number of requests per IP per 5 minutes "
                            "from 10 to 2000000000"),
    ({"logRetentionDays": "10"}, "logRetentionDays: got '10'; expected one of the CloudWatch Logs retention "
                                 "periods: 1, 3, 5"),
    ({"reservedConcurrency": "0"}, "reservedConcurrency: got '0'"),
    ({"logLevel": "verbose"}, "logLevel: got 'verbose'; expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    ({"alarmEmail": "ops"}, "alarmEmail: got 'ops'"),
    ({"alarmTopicArn": "ops-topic"}, "alarmTopicArn: got 'ops-topic'; expected an SNS topic ARN"),
    ({"cognitoDomainPrefix": "my-aws-portal"}, "cognitoDomainPrefix: got 'my-aws-portal'; expected a prefix "
                                               "without the reserved words"),
    ({"cognitoDomainPrefix": "-portal"}, "cognitoDomainPrefix: got '-portal'"),
    ({"cognitoMfa": "sms"}, "cognitoMfa: got 'sms'; expected one of required, optional, off"),
    ({"cognitoFeaturePlan": "lite"}, "cognitoFeaturePlan: got 'lite'; expected one of essentials, plus"),
    ({"stackName": "1portal"}, "stackName: got '1portal'"),
    ({"stageName": "prod-1"}, "stageName: got 'prod-1'"),
    ({"throttleRateLimit": "0"}, "throttleRateLimit"),
    ({"domainID": "d-abc"}, "domainID: is not a setting of this portal (did you mean domainId?)"),
])
def test_bad_values_are_refused_with_the_key_and_the_allowed_values(overrides: dict[str, Any],
                                                                     expected: str) -> None:
    message = problems(**overrides)
    assert expected in message
    assert message.startswith("Invalid CDK context (set in cdk.json or with -c key=value):")


# --- targets ---------------------------------------------------------------------------------------------
GOOD = {"id": "ds", "label": "Data science", "domain_id": "d-aaaaaaaaaaaa"}


def targets(*items: Any) -> str:
    return json.dumps(list(items))


def test_targets_are_read_from_a_json_string_or_a_json_list() -> None:
    # Given -c targets='[...]' next to cdk.json's placeholder domainId, or a list with domainId cleared
    for config in (read(targets=json.dumps(TARGETS)), read(targets=TARGETS, domainId="")):
        # Then the targets are typed for IAM, and PORTAL_TARGETS is their compact JSON
        assert [target.id for target in config.targets] == ["ds", "eu-research", "ml-prod", "audit"]
        assert [target.id for target in config.local_targets] == ["ds", "eu-research"]
        ds, eu, ml, audit = config.targets
        assert ds.provision is not None and ds.provision.tag_keys == ("cost-center", "team")
        assert (eu.region, eu.role_arn, eu.provision) == ("eu-central-1", None, None)
        assert ml.via_role and ml.tag_session and ml.region == "eu-west-1"
        assert audit.via_role and not audit.tag_session
        assert config.targets_json == json.dumps(TARGETS, separators=(",", ":"))
        assert not config.uses_placeholder_domain
    # Without targets nothing changes: one target from domainId, PORTAL_DOMAIN_ID
    single = read(domainId="d-abc123def456")
    assert single.targets_json is None and [t.domain_id for t in single.targets] == ["d-abc123def456"]


@pytest.mark.parametrize(("value", "expected"), [
    ("[{\"id\": \"ds\"", "targets: is not valid JSON (Expecting"),
    ("[]", "targets: must be a non-empty JSON list of targets"),
    ([], "targets: must be a non-empty JSON list of targets"),
    ({"id": "ds"}, "targets: got {'id': 'ds'}; expected a JSON list of targets"),
    (42, "targets: got 42; expected a JSON list of targets"),
    (targets({"label": "x", "domain_id": "d-aaaaaaaaaaaa"}), "targets: target 0: id must be 1-32 lower-case"),
    (targets({**GOOD, "domain_id": "studio"}), "targets: target 'ds': domain_id must look like d-xxxxxxxxxxxx"),
    (targets({**GOOD, "domain": "d-a"}), "targets: target 'ds': unknown fields ['domain']"),
    (targets({**GOOD, "region": "Frankfurt"}), "targets: target 'ds': region must be an AWS region name"),
    (targets({**GOOD, "role_arn": "arn:aws:iam::1:role/x"}), "targets: target 'ds': role_arn must be an IAM role ARN"),
    (targets({**GOOD, "tag_session": True}), "targets: target 'ds': tag_session needs role_arn"),
    (targets({**GOOD, "profile": "{email}_ml"}), "targets: target 'ds': profile must be a template"),
    (targets({**GOOD, "groups": "ml"}), "targets: target 'ds': groups must be a list of group names"),
    (targets({**GOOD, "provision": {"execution_role_arn": "SageMakerExecution", "email_domains": ["a.example"]}}),
     "targets: target 'ds': provision.execution_role_arn must be an IAM role ARN"),
    (targets({**GOOD, "provision": {"execution_role_arn": "arn:aws:iam::123456789012:role/x"}}),
     "targets: target 'ds': provision.email_domains is required"),
    (targets({**GOOD, "provision": {"execution_role_arn": "arn:aws:iam::123456789012:role/x",
                                    "email_domains": "corp.example"}}),
     "targets: target 'ds': provision.email_domains must be a non-empty list"),
    (targets({**GOOD, "provision": {"execution_role_arn": "arn:aws:iam::123456789012:role/x",
                                    "email_domains": ["a.example"], "tags": {"aws:owner": "x"}}}),
     "targets: target 'ds': provision.tags must map tag keys to string values"),
    (targets({**GOOD, "provision": {"execution_role_arn": "arn:aws:iam::123456789012:role/x",
                                    "email_domains": ["a.example"], "user_settings": {"ExecutionRole": "arn:aws:iam::123456789012:role/y"}}}),
     "targets: target 'ds': set the execution role with provision.execution_role_arn"),
    (targets({**GOOD, "provision": {"execution_role_arn": "arn:aws:iam::123456789012:role/x",
                                    "email_domains": ["a.example"], "user_settings": {"CanvasAppSettings": {
                                        "GenerativeAiSettings": {
                                            "AmazonBedrockRoleArn": "arn:aws:iam::123456789012:role/Bedrock"}}}}}),
     "targets: target 'ds': provision.user_settings.CanvasAppSettings.GenerativeAiSettings.AmazonBedrockRoleArn "
     "names the role arn:aws:iam::123456789012:role/Bedrock, which the portal's role may not pass to SageMaker"),
    (targets({**GOOD, "provision": {"execution_role_arn": "arn:aws:iam::123456789012:role/x",
                                    "email_domains": ["a.example"], "user_settings": {"JupyterLabAppSettings": {
                                        "EmrSettings": {"ExecutionRoleArns": [
                                            "arn:aws:iam::123456789012:role/Emr"]}}}}}),
     "provision.user_settings.JupyterLabAppSettings.EmrSettings.ExecutionRoleArns[0] names the role "
     "arn:aws:iam::123456789012:role/Emr"),
    (targets(GOOD, GOOD), "targets: target 'ds': id is used twice"),
    (targets(*({**GOOD, "id": f"t{n}"} for n in range(51))), "targets: holds more than 50 targets"),
    (targets(*({**GOOD, "id": f"t{n}", "label": "L" * 100} for n in range(30))),
     "targets: is 4581 bytes as PORTAL_TARGETS, more than the 3000 bytes"),
])
def test_bad_targets_are_refused_naming_the_key_and_the_field(value: Any, expected: str) -> None:
    message = problems(targets=value)
    assert expected in message
    assert "PORTAL_TARGETS:" not in message  # the context key is named, not the function's variable


def test_roles_in_user_settings_are_for_targets_reached_through_their_own_role() -> None:
    # A target with role_arn: passing roles is that role's policy's business (docs/deploy.md), so it is accepted
    remote = {**GOOD, "role_arn": "arn:aws:iam::210987654321:role/StudioPortalLaunch", "provision": {
        "execution_role_arn": "arn:aws:iam::210987654321:role/x", "email_domains": ["a.example"],
        "user_settings": {"CanvasAppSettings": {"GenerativeAiSettings": {
            "AmazonBedrockRoleArn": "arn:aws:iam::210987654321:role/Bedrock"}}}}}
    assert read(targets=targets(remote)).targets[0].role_arn is not None


def test_targets_and_domain_id_are_exclusive() -> None:
    message = problems(targets=targets(GOOD), domainId="d-abc123def456")
    assert "domainId, targets: give one or the other: domainId for one Studio domain, targets for several" in message


def test_owner_tag_enforcement_needs_a_target_in_this_account() -> None:
    remote = [target for target in TARGETS if "role_arn" in target]
    message = problems(targets=json.dumps(remote), enforceOwnerTagInIam="true")
    assert "enforceOwnerTagInIam: applies to targets reached with the function's own role" in message
    assert read(targets=json.dumps(TARGETS), enforceOwnerTagInIam="true").enforce_owner_tag_in_iam


def test_all_problems_are_reported_at_once() -> None:
    message = problems(domainId="nope", urlExpiresSeconds="0", waf="perhaps")
    assert "domainId" in message and "urlExpiresSeconds" in message and "waf" in message


def test_cdk_own_context_keys_are_not_mistaken_for_typos() -> None:
    read(**{"aws:cdk:bundling-stacks": [], "@aws-cdk/core:newStyleStackSynthesis": True, "cli-telemetry": False})


def app_run(context: dict[str, Any], outdir=None, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    """app.py as the CDK CLI runs it (context in CDK_CONTEXT_JSON), with no AWS environment unless ``env``."""
    inherited = {key: value for key, value in os.environ.items()
                 if not key.startswith(("CDK_DEFAULT_", "CDK_DEPLOY_", "AWS_"))}
    env = {**inherited, "CDK_CONTEXT_JSON": json.dumps(context), "PYTHONPATH": str(ROOT),
           "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", **(env or {})}
    env.pop("PYTEST_CURRENT_TEST", None)
    if outdir is not None:
        env["CDK_OUTDIR"] = str(outdir)
    return subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_app_exits_with_a_readable_message_on_bad_context() -> None:
    # Given the context the CDK CLI would pass for: cdk synth -c domainId=studio -c studioSessionSeconds=60
    result = app_run({**CDK_JSON_CONTEXT, "domainId": "studio", "studioSessionSeconds": "60"})
    # Then the app stops before building anything, with one line per key and no traceback
    assert result.returncode == 1
    assert "error: Invalid CDK context" in result.stderr
    assert "domainId: got 'studio'; expected a SageMaker Studio domain id matching d-(-*[a-z0-9]){1,61}" in (
        result.stderr)
    assert "studioSessionSeconds: got '60'; expected a whole number of seconds from 1800 to 43200" in result.stderr
    assert "Traceback" not in result.stderr


def test_app_validates_targets_with_the_function_code_on_its_own_path(tmp_path) -> None:
    # Given app.py run with only the repository on PYTHONPATH (as `npx cdk synth` runs it): it finds
    # lambda/portal itself. A bad target stops it with the key and the field...
    bad = app_run({**CDK_JSON_CONTEXT, "targets": targets({**GOOD, "region": "mars"})})
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert "targets: target 'ds': region must be an AWS region name such as eu-west-1" in bad.stderr
    # ...and good ones synthesize, next to the placeholder domainId of cdk.json
    good = app_run({**CDK_JSON_CONTEXT, "targets": json.dumps(TARGETS), "aws:cdk:bundling-stacks": []},
                   outdir=tmp_path)
    assert good.returncode == 0, good.stderr
    template = json.loads((tmp_path / "SageMakerStudioPortal.template.json").read_text())
    (function,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    assert json.loads(function["Properties"]["Environment"]["Variables"]["PORTAL_TARGETS"]) == TARGETS


@pytest.mark.skipif(not (ROOT / "node_modules" / ".bin" / "cdk").exists() or not shutil.which("node"),
                    reason="the pinned CDK CLI is installed by `npm ci` (make synth does it)")
def test_cdk_cli_synth_fails_on_bad_context(tmp_path) -> None:
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    env.pop("PYTEST_CURRENT_TEST", None)
    result = subprocess.run(
        [str(ROOT / "node_modules" / ".bin" / "cdk"), "synth", "--quiet", "--output", str(tmp_path / "out"),
         "-c", "domainId=d-ok123", "-c", "endpointType=private"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode != 0
    assert "vpcEndpointIds: is required with endpointType=private" in result.stdout + result.stderr


@pytest.mark.skipif(not (ROOT / "node_modules" / ".bin" / "cdk").exists() or not shutil.which("node"),
                    reason="the pinned CDK CLI is installed by `npm ci` (make synth does it)")
def test_cdk_cli_synth_fails_on_bad_targets(tmp_path) -> None:
    # -c targets='[...]' reaches the app as a string; a target without domain_id is refused before bundling
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    env.pop("PYTEST_CURRENT_TEST", None)
    result = subprocess.run(
        [str(ROOT / "node_modules" / ".bin" / "cdk"), "synth", "--quiet", "--output", str(tmp_path / "out"),
         "-c", 'targets=[{"id": "ds", "label": "Data science"}]'],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode != 0
    assert "targets: target 'ds': domain_id must look like d-xxxxxxxxxxxx" in result.stdout + result.stderr
