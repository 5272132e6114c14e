"""The default deployment (cdk.json as shipped), read the way a security reviewer reads the template."""

from __future__ import annotations

import json
import re

import pytest
from aws_cdk.assertions import Match, Template

from tests.infra.conftest import CONFIGS, as_list, build, flat, refs, statements

pytestmark = pytest.mark.infra

CONTRACT_ENV = {
    "PORTAL_OIDC_ISSUER", "PORTAL_OIDC_CLIENT_SECRET_ARN", "PORTAL_SESSION_KEY_ARN", "PORTAL_DOMAIN_ID",
    "PORTAL_IDENTITY_CLAIM", "PORTAL_GROUPS_CLAIM", "PORTAL_OWNER_TAG", "PORTAL_URL_EXPIRES_SECONDS", "PORTAL_STUDIO_SESSION_SECONDS",
    "PORTAL_SESSION_TTL_SECONDS", "PORTAL_OWNERSHIP_CACHE_SECONDS", "POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE",
    "LOG_LEVEL", "PORTAL_REQUIRE_VERIFIED_EMAIL", "PORTAL_TITLE",
}
PROFILE_ARN = "arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:user-profile/d-xxxxxxxxxxxx/*"
DOMAIN_ARN = "arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:domain/d-xxxxxxxxxxxx"
SECRET_PATTERN = ("arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:"
                  "secret:SageMakerStudioPortal/oidc-client-??????")


@pytest.fixture(scope="module")
def default(synth):
    return synth("default")


# --- the dependency cycle ----------------------------------------------------------------------------------
def test_function_never_refers_to_the_cognito_client_or_its_secret(default) -> None:
    # Given the synthesized default stack: CloudFormation would reject a cycle, and so does CDK's synth
    Template.from_stack(default.stack)
    client = default.logical_id("AWS::Cognito::UserPoolClient")
    secrets = default.resources("AWS::SecretsManager::Secret")
    client_secret = next(key for key, value in secrets.items() if "Name" in value["Properties"])
    role = default.function["Properties"]["Role"]["Fn::GetAtt"][0]
    # Then neither the function, nor its role, nor the role's policy names the client or its secret
    for fragment in (default.function, default.json["Resources"][role], *default.resources("AWS::IAM::Policy").values()):
        assert client not in refs(fragment) and client_secret not in refs(fragment)
    # And the function is given the secret's literal name, with no client id (it is in the secret's JSON)
    assert default.env["PORTAL_OIDC_CLIENT_SECRET_ARN"] == "SageMakerStudioPortal/oidc-client"
    assert "PORTAL_OIDC_CLIENT_ID" not in default.env
    # While the client does refer to the API (its callback URL), which is what made the cycle possible
    callback = default.resources("AWS::Cognito::UserPoolClient")[client]["Properties"]["CallbackURLs"]
    assert default.logical_id("AWS::ApiGateway::RestApi") in refs(callback)


def test_the_client_secret_is_stored_as_json_under_the_literal_name(default) -> None:
    client = default.logical_id("AWS::Cognito::UserPoolClient")
    secret = next(value for value in default.resources("AWS::SecretsManager::Secret").values()
                  if value["Properties"].get("Name") == "SageMakerStudioPortal/oidc-client")
    body = flat(secret["Properties"]["SecretString"])
    assert body == f'{{"client_id":"<{client}>","client_secret":"<{client}.ClientSecret>"}}'
    assert secret["DeletionPolicy"] == "Delete"
    # No custom resource is needed to read the client secret (CloudFormation's GetAtt ClientSecret)
    assert not [key for key, value in default.json["Resources"].items() if value["Type"].startswith("Custom::")]
    assert not default.resources("AWS::Lambda::Function").keys() - {default.logical_id("AWS::Lambda::Function")}


def test_session_key_is_generated_at_deploy_time(default) -> None:
    default.template.has_resource("AWS::SecretsManager::Secret", {
        "Properties": {
            "GenerateSecretString": {"PasswordLength": 64, "ExcludePunctuation": True, "IncludeSpace": False},
            "Name": Match.absent(),
            "SecretString": Match.absent(),
        },
    })
    session_key = next(key for key, value in default.resources("AWS::SecretsManager::Secret").items()
                       if "GenerateSecretString" in value["Properties"])
    assert default.env["PORTAL_SESSION_KEY_ARN"] == {"Ref": session_key}


# --- the function ---------------------------------------------------------------------------------------
def test_function_environment_is_exactly_the_contract(default) -> None:
    assert set(default.env) == CONTRACT_ENV
    assert flat(default.env["PORTAL_OIDC_ISSUER"]) == (
        f"https://cognito-idp.<AWS::Region>.<AWS::URLSuffix>/<{default.logical_id('AWS::Cognito::UserPool')}>")
    assert {key: default.env[key] for key in CONTRACT_ENV if isinstance(default.env[key], str)} == {
        "PORTAL_OIDC_CLIENT_SECRET_ARN": "SageMakerStudioPortal/oidc-client",
        "PORTAL_DOMAIN_ID": "d-xxxxxxxxxxxx",
        "PORTAL_IDENTITY_CLAIM": "email",
        "PORTAL_GROUPS_CLAIM": "cognito:groups",
        "PORTAL_REQUIRE_VERIFIED_EMAIL": "true",
        "PORTAL_OWNER_TAG": "studiouserid",
        "PORTAL_URL_EXPIRES_SECONDS": "30",
        "PORTAL_STUDIO_SESSION_SECONDS": "43200",
        "PORTAL_SESSION_TTL_SECONDS": "3600",
        "PORTAL_OWNERSHIP_CACHE_SECONDS": "60",
        "PORTAL_TITLE": "SageMaker Studio",
        "POWERTOOLS_SERVICE_NAME": "sagemaker-studio-portal",
        "POWERTOOLS_METRICS_NAMESPACE": "StudioPortal",
        "LOG_LEVEL": "INFO",
    }


def test_function_runtime_and_sizing(default) -> None:
    properties = default.function["Properties"]
    assert properties["Runtime"] == "python3.13" and properties["Architectures"] == ["arm64"]
    assert properties["Handler"] == "portal.handler.handler"
    assert properties["MemorySize"] == 512
    assert properties["Timeout"] == 25  # below API Gateway's 29 s integration timeout
    assert properties["TracingConfig"] == {"Mode": "Active"}
    assert "ReservedConcurrentExecutions" not in properties
    log_group = properties["LoggingConfig"]["LogGroup"]["Ref"]
    group = default.json["Resources"][log_group]
    assert group["Properties"]["RetentionInDays"] == 365 and group["DeletionPolicy"] == "Retain"
    # The function waits for its policy; the role itself is already implied by the GetAtt (cfn-lint W3005)
    assert default.function["DependsOn"] == [default.logical_id("AWS::IAM::Policy")]


# --- IAM --------------------------------------------------------------------------------------------------
def test_function_role_has_exactly_the_permissions_the_portal_needs(default) -> None:
    role = default.function["Properties"]["Role"]["Fn::GetAtt"][0]
    role_properties = default.json["Resources"][role]["Properties"]
    assert "ManagedPolicyArns" not in role_properties and "Policies" not in role_properties
    assert role_properties["AssumeRolePolicyDocument"]["Statement"] == [{
        "Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}]

    granted = {
        (tuple(sorted(as_list(statement["Action"]))), tuple(sorted(flat(resource) for resource in
                                                                   as_list(statement["Resource"]))))
        for statement in statements(default, role) if statement["Effect"] == "Allow"
    }
    log_group = default.function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    session_key = default.env["PORTAL_SESSION_KEY_ARN"]["Ref"]
    assert granted == {
        (("logs:CreateLogStream", "logs:PutLogEvents"), (f"<{log_group}.Arn>",)),
        (("sagemaker:CreatePresignedDomainUrl", "sagemaker:DescribeUserProfile", "sagemaker:ListTags"),
         (PROFILE_ARN,)),
        (("sagemaker:DescribeDomain",), (DOMAIN_ARN,)),
        (("sagemaker:ListSpaces",), ("*",)),
        (("secretsmanager:GetSecretValue",), tuple(sorted((SECRET_PATTERN, f"<{session_key}>")))),
        (("xray:PutTelemetryRecords", "xray:PutTraceSegments"), ("*",)),
    }
    for statement in statements(default, role):
        if statement["Effect"] == "Deny":  # the one Deny: no presigning for revoked profiles (test_revocation_iam)
            assert statement["Sid"] == "NoStudioForRevokedProfiles"
            continue
        if statement["Action"] == "sagemaker:ListSpaces":
            # ListSpaces takes no resource ARN: it is held to the stack's region instead.
            assert list(statement["Condition"]) == ["StringEquals"]
            assert list(statement["Condition"]["StringEquals"]) == ["aws:RequestedRegion"]
        else:
            assert "Condition" not in statement
        assert not any("*" in action for action in as_list(statement["Action"]))


def test_no_iam_policy_anywhere_has_wildcard_actions_or_unjustified_wildcard_resources(synth) -> None:
    for name in CONFIGS:
        result = synth(name)
        policies = list(result.resources("AWS::IAM::Policy").values())
        assert policies, name
        for policy in policies:
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                assert not any("*" in action for action in as_list(statement["Action"])), statement
                resources = [flat(resource) for resource in as_list(statement["Resource"])]
                if statement["Effect"] == "Deny":  # a Deny on "*" takes nothing away that was scoped
                    assert statement["Sid"] == "NoStudioForRevokedProfiles", statement
                    continue
                if "*" in resources:  # only where AWS offers no resource scoping
                    if statement["Action"] == "sagemaker:ListSpaces":  # with targets; limited by region
                        assert list(statement["Condition"]) == ["StringEquals"]
                        assert list(statement["Condition"]["StringEquals"]) == ["aws:RequestedRegion"]
                        continue
                    assert sorted(as_list(statement["Action"])) == ["xray:PutTelemetryRecords",
                                                                    "xray:PutTraceSegments"]
                for resource in resources:
                    assert resource == "*" or re.fullmatch(
                        r"arn:[^*]+:user-profile/d-[a-z0-9-]+/\*|[^*]+", resource), resource


def test_no_aws_managed_policy_except_api_gateway_logging(synth) -> None:
    for name in CONFIGS:
        for role in synth(name).resources("AWS::IAM::Role").values():
            managed = [flat(arn) for arn in role["Properties"].get("ManagedPolicyArns", [])]
            assert managed in ([], ["arn:<AWS::Partition>:iam::aws:policy/service-role/"
                                    "AmazonAPIGatewayPushToCloudWatchLogs"])


# --- the API ----------------------------------------------------------------------------------------------
def test_api_is_regional_get_only_lambda_proxy(default) -> None:
    api = default.one("AWS::ApiGateway::RestApi")["Properties"]
    assert api["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    assert "Policy" not in api and not api.get("DisableExecuteApiEndpoint", False)
    methods = default.resources("AWS::ApiGateway::Method").values()
    assert len(methods) == 2
    alias = default.logical_id("AWS::Lambda::Alias")
    for method in methods:
        properties = method["Properties"]
        assert properties["HttpMethod"] == "GET" and properties["AuthorizationType"] == "NONE"
        assert properties["Integration"]["Type"] == "AWS_PROXY"
        assert properties["Integration"]["IntegrationHttpMethod"] == "POST"
        # The alias (its Ref is the alias ARN), never the function itself: that would invoke $LATEST
        assert refs(properties["Integration"]["Uri"]) - {"AWS::Partition", "AWS::Region"} == {alias}
    paths = {resource["Properties"]["PathPart"] for resource in default.resources("AWS::ApiGateway::Resource").values()}
    assert paths == {"{proxy+}"}
    # The function may be invoked by this API's GET methods only, not by the console's test-invoke
    permissions = default.resources("AWS::Lambda::Permission").values()
    assert len(permissions) == 2
    for permission in permissions:
        assert permission["Properties"]["Principal"] == "apigateway.amazonaws.com"
        assert permission["Properties"]["FunctionName"] == {"Ref": alias}
        source = flat(permission["Properties"]["SourceArn"])
        stage = default.logical_id("AWS::ApiGateway::Stage")
        assert re.fullmatch(rf"arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<\w+>/<{stage}>/GET/"
                            r"(\{proxy\+\}|\*)?", source), source


@pytest.mark.parametrize("name", ["default", "saml", "targets"])
def test_snapstart_applies_to_the_published_version_the_api_invokes(synth, name: str) -> None:
    result = synth(name)
    function_id = result.logical_id("AWS::Lambda::Function")
    assert result.function["Properties"]["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    version_id, version = next(iter(result.resources("AWS::Lambda::Version").items()))
    assert len(result.resources("AWS::Lambda::Version")) == 1
    assert version["Properties"]["FunctionName"] == {"Ref": function_id}
    # A superseded version (and its cached snapshot, billed while it exists) goes with the next deploy
    assert version["DeletionPolicy"] == "Delete"
    alias = result.one("AWS::Lambda::Alias")["Properties"]
    assert alias["Name"] == "live" and alias["FunctionName"] == {"Ref": function_id}
    assert alias["FunctionVersion"] == {"Fn::GetAtt": [version_id, "Version"]}


def test_without_snapstart_the_api_still_invokes_the_published_version(tmp_path) -> None:
    result = build("no-snapstart", {"snapStart": "false"}, tmp_path, nag=False)
    assert "SnapStart" not in result.function["Properties"]
    alias = result.logical_id("AWS::Lambda::Alias")
    for method in result.resources("AWS::ApiGateway::Method").values():
        assert refs(method["Properties"]["Integration"]["Uri"]) - {"AWS::Partition", "AWS::Region"} == {alias}


def test_stage_throttles_traces_and_logs_without_query_strings(default) -> None:
    stage = default.one("AWS::ApiGateway::Stage")["Properties"]
    assert stage["StageName"] == "prod" and stage["TracingEnabled"] is True
    assert stage["MethodSettings"] == [{
        "HttpMethod": "*", "ResourcePath": "/*", "LoggingLevel": "ERROR", "DataTraceEnabled": False,
        "MetricsEnabled": True, "ThrottlingRateLimit": 25, "ThrottlingBurstLimit": 50,
    }]
    log_format = stage["AccessLogSetting"]["Format"]
    fields = json.loads(log_format)
    assert {"requestId", "ip", "requestTime", "httpMethod", "resourcePath", "status", "responseLength",
            "userAgent"} <= set(fields)
    assert fields["resourcePath"] == "$context.resourcePath"
    for forbidden in ("$context.path", "requestOverride", "querystring", "header", "cookie", "$input",
                      "$context.authorizer"):
        assert forbidden.lower() not in log_format.lower()
    access_logs = flat(stage["AccessLogSetting"]["DestinationArn"])
    group = access_logs.rsplit(":", 1)[-1].strip("<>")
    assert default.json["Resources"][group]["Properties"]["RetentionInDays"] == 365


def test_api_gateway_logging_role_is_set_and_kept(default) -> None:
    account = default.one("AWS::ApiGateway::Account")
    assert account["DeletionPolicy"] == "Retain"
    role = account["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]
    assert default.json["Resources"][role]["DeletionPolicy"] == "Retain"


def test_waf_is_on_by_default_with_managed_rules_and_a_rate_limit(default) -> None:
    acl = default.one("AWS::WAFv2::WebACL")["Properties"]
    assert acl["Scope"] == "REGIONAL" and acl["DefaultAction"] == {"Allow": {}}
    rules = {rule["Name"]: rule for rule in acl["Rules"]}
    assert set(rules) == {"RateLimitPerIp", "AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"}
    rate = rules["RateLimitPerIp"]
    assert rate["Statement"]["RateBasedStatement"] == {"Limit": 1000, "AggregateKeyType": "IP",
                                                       "EvaluationWindowSec": 300}
    assert rate["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429
    for rule in acl["Rules"]:
        assert rule["VisibilityConfig"]["SampledRequestsEnabled"] is False  # samples keep query strings
    association = default.one("AWS::WAFv2::WebACLAssociation")["Properties"]
    assert default.logical_id("AWS::ApiGateway::Stage") in refs(association["ResourceArn"])
    assert association["WebACLArn"] == {"Fn::GetAtt": [default.logical_id("AWS::WAFv2::WebACL"), "Arn"]}



def test_waf_logs_every_request_to_a_retained_group_with_credentials_redacted(default) -> None:
    logging = default.one("AWS::WAFv2::LoggingConfiguration")["Properties"]
    assert logging["ResourceArn"] == {"Fn::GetAtt": [default.logical_id("AWS::WAFv2::WebACL"), "Arn"]}
    # The query string (the authorization code), the cookies and any Authorization header never reach the log
    assert logging["RedactedFields"] == [{"QueryString": {}}, {"SingleHeader": {"Name": "cookie"}},
                                         {"SingleHeader": {"Name": "authorization"}}]
    assert "LoggingFilter" not in logging  # every request, not only blocked ones
    # To a log group of its own, named as WAF requires, kept with the stack's other audit logs
    (destination,) = logging["LogDestinationConfigs"]
    groups = {key: value for key, value in default.resources("AWS::Logs::LogGroup").items()
              if key in refs(destination)}
    ((group_id, group),) = groups.items()
    assert flat(destination) == f"arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:<{group_id}>"
    assert group["DeletionPolicy"] == "Retain" and group["Properties"]["RetentionInDays"] == 365
    name = group["Properties"]["LogGroupName"]["Fn::Join"]
    assert name[1][0] == "aws-waf-logs-SageMakerStudioPortal-"
    # ending with the stack id's unique part, so a redeploy never meets the group a deleted stack kept
    assert name[1][1] == {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}

# --- Cognito ----------------------------------------------------------------------------------------------
def test_user_pool_is_locked_down_and_retained(default) -> None:
    pool = default.one("AWS::Cognito::UserPool")
    assert pool["DeletionPolicy"] == "Retain" and pool["UpdateReplacePolicy"] == "Retain"
    properties = pool["Properties"]
    assert properties["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": True}
    assert properties["UsernameConfiguration"] == {"CaseSensitive": False}
    assert properties["DeletionProtection"] == "ACTIVE"
    assert properties["MfaConfiguration"] == "ON" and properties["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    password = properties["Policies"]["PasswordPolicy"]
    assert password["MinimumLength"] >= 14 and all(
        password[key] for key in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols"))
    # Users local to the pool get threat protection (Plus) by default
    assert properties["UserPoolTier"] == "PLUS" and properties["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}
    assert "EmailConfiguration" not in properties  # Cognito's default sender unless cognitoEmailFrom
    domain = default.one("AWS::Cognito::UserPoolDomain")["Properties"]
    assert flat(domain["Domain"]) == "sagemakerstudioportal-<AWS::AccountId>"
    assert domain["ManagedLoginVersion"] == 2  # prompts local users to enrol TOTP when MFA is required
    branding = default.one("AWS::Cognito::ManagedLoginBranding")["Properties"]
    assert branding["UseCognitoProvidedValues"] is True
    assert branding["ClientId"] == {"Ref": default.logical_id("AWS::Cognito::UserPoolClient")}


def test_app_client_is_a_confidential_code_flow_client_for_the_portal(default) -> None:
    client = default.one("AWS::Cognito::UserPoolClient")["Properties"]
    assert client["GenerateSecret"] is True
    assert client["AllowedOAuthFlows"] == ["code"] and client["AllowedOAuthFlowsUserPoolClient"] is True
    assert client["AllowedOAuthScopes"] == ["openid", "email", "profile"]
    assert client["SupportedIdentityProviders"] == ["COGNITO"]
    assert client["ExplicitAuthFlows"] == ["ALLOW_REFRESH_TOKEN_AUTH"]
    assert client["PreventUserExistenceErrors"] == "ENABLED" and client["EnableTokenRevocation"] is True
    assert client["WriteAttributes"] == []  # local users cannot rewrite their own email through the client
    api, stage = default.logical_id("AWS::ApiGateway::RestApi"), default.logical_id("AWS::ApiGateway::Stage")
    base = f"https://<{api}>.execute-api.<AWS::Region>.<AWS::URLSuffix>/<{stage}>/"
    assert [flat(url) for url in client["CallbackURLs"]] == [base + "callback"]
    # Sign-out at Cognito returns to the portal's "You have signed out" page (the portal sends the same URL)
    assert [flat(url) for url in client["LogoutURLs"]] == [base + "signed-out"]


# --- operations -------------------------------------------------------------------------------------------
def test_alarms_on_errors_throttles_and_5xx_without_a_topic_by_default(default) -> None:
    alarms = {alarm["Properties"]["MetricName"]: alarm["Properties"]
              for alarm in default.resources("AWS::CloudWatch::Alarm").values()}
    assert set(alarms) == {"Errors", "Throttles", "5XXError"}
    assert alarms["Errors"]["Namespace"] == "AWS/Lambda" and alarms["Errors"]["Threshold"] == 1
    assert alarms["Throttles"]["Threshold"] == 1
    assert alarms["5XXError"]["Namespace"] == "AWS/ApiGateway" and alarms["5XXError"]["Threshold"] == 5
    for alarm in alarms.values():
        assert alarm["TreatMissingData"] == "notBreaching" and "AlarmActions" not in alarm
    assert not default.resources("AWS::SNS::Topic")


def test_outputs_give_the_urls_operators_need(default) -> None:
    outputs = default.json["Outputs"]
    assert {"PortalUrl", "CallbackUrl", "SignOutUrl", "CognitoDomain", "UserPoolId", "OidcClientSecretName",
            "SessionKeySecretArn"} <= set(outputs)
    assert flat(outputs["CallbackUrl"]["Value"]) == flat(outputs["PortalUrl"]["Value"]) + "callback"
    assert flat(outputs["SignOutUrl"]["Value"]) == flat(outputs["PortalUrl"]["Value"]) + "signed-out"
    assert flat(outputs["CognitoDomain"]["Value"]).endswith(".auth.<AWS::Region>.amazoncognito.com")
    assert not [key for key in outputs if key.startswith("ApiRestApiEndpoint")]


def test_synth_is_environment_agnostic_and_needs_no_lookups(default) -> None:
    assert default.stack.account == "${Token[AWS.AccountId.0]}" or default.stack.account.startswith("${Token")
    assert not (default.template_path.parent / "cdk.context.json").exists()
    manifest = json.loads((default.template_path.parent / "manifest.json").read_text())
    assert not manifest.get("missing")  # no context lookups were requested
