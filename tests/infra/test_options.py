"""Every option switched on (in the saml, oidc-federation and byo-oidc-private configurations) and off
(in the default configuration)."""

from __future__ import annotations

import pytest

from portal.config import parse_authorize_params
from tests.infra.conftest import BYO_KEY, BYO_SECRET, DOMAIN, IDP_SECRET, TOPIC, as_list, flat, refs, statements

pytestmark = pytest.mark.infra

PROFILES = f"arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:user-profile/{DOMAIN}/*"


def granted(result, role_prefix: str) -> dict[str, list[dict]]:
    """action -> the statements granting it (Allow), for the role whose logical id starts with the prefix."""
    by_action: dict[str, list[dict]] = {}
    for statement in statements(result, role_prefix):
        if statement["Effect"] != "Allow":
            continue
        for action in as_list(statement["Action"]):
            by_action.setdefault(action, []).append(statement)
    return by_action


def function_role(result) -> str:
    return result.function["Properties"]["Role"]["Fn::GetAtt"][0]


# --- identity ---------------------------------------------------------------------------------------------
def test_saml_federation(synth) -> None:
    result = synth("saml")
    provider = result.one("AWS::Cognito::UserPoolIdentityProvider")
    assert provider["Properties"]["ProviderType"] == "SAML"
    assert provider["Properties"]["ProviderName"] == "CorporateIdP"
    assert provider["Properties"]["ProviderDetails"]["MetadataURL"] == "https://idp.example.com/app/metadata.xml"
    # samlIdpSignout: Cognito's /logout also sends the IdP a signed SAML LogoutRequest
    # (CDK writes the boolean; CloudFormation passes it to Cognito as the string "true")
    assert provider["Properties"]["ProviderDetails"]["IDPSignout"] is True
    assert provider["Properties"]["AttributeMapping"] == {
        "email": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
        "email_verified": "email_verified"}  # else Cognito marks every federated email unverified
    client = result.one("AWS::Cognito::UserPoolClient")
    assert client["Properties"]["SupportedIdentityProviders"] == ["CorporateIdP"]
    assert "WriteAttributes" not in client["Properties"]  # Cognito's default: mapped attributes writable
    assert result.logical_id("AWS::Cognito::UserPoolIdentityProvider") in client["DependsOn"]
    outputs = result.json["Outputs"]
    assert flat(outputs["SamlEntityId"]["Value"]) == f"urn:amazon:cognito:sp:<{result.logical_id('AWS::Cognito::UserPool')}>"
    assert flat(outputs["FederationRedirectUrl"]["Value"]).endswith(".amazoncognito.com/saml2/idpresponse")
    # The operator's own prefix, the Plus plan with threat protection, MFA optional for local users
    pool = result.one("AWS::Cognito::UserPool")["Properties"]
    assert result.one("AWS::Cognito::UserPoolDomain")["Properties"]["Domain"] == "acme-studio"
    assert pool["UserPoolTier"] == "PLUS" and pool["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}
    assert pool["MfaConfiguration"] == "OPTIONAL"


def test_a_federated_pool_sends_people_straight_to_its_idp(synth) -> None:
    # The authorize request names the provider, so Cognito's managed login page is skipped; oidcAuthorizeParams
    # (saml: prompt=login) follow it.
    assert synth("saml").env["PORTAL_OIDC_AUTHORIZE_PARAMS"] == "identity_provider=CorporateIdP&prompt=login"
    assert synth("oidc-federation").env["PORTAL_OIDC_AUTHORIZE_PARAMS"] == "identity_provider=EntraID"
    # The tile's issuer, the portal's name and the helpdesk pass through from their context keys
    saml = synth("saml").env
    assert (saml["PORTAL_LOGIN_INITIATORS"], saml["PORTAL_TITLE"], saml["PORTAL_HELPDESK"]) == (
        "https://acme.okta.com", "Acme ML", "mailto:ml-help@acme.example")
    # Local users (no federation) have no provider to name; a bring-your-own issuer gets oidcAuthorizeParams alone,
    # and the function reads them back as they were given.
    assert "PORTAL_OIDC_AUTHORIZE_PARAMS" not in synth("default").env
    byo = synth("byo-oidc-private").env
    assert byo["PORTAL_OIDC_AUTHORIZE_PARAMS"] == "domain_hint=acme.example&acr_values=phr+mfa"
    assert parse_authorize_params(byo["PORTAL_OIDC_AUTHORIZE_PARAMS"], "PORTAL_OIDC_AUTHORIZE_PARAMS") == (
        ("domain_hint", "acme.example"), ("acr_values", "phr mfa"))


def test_threat_protection_follows_who_signs_in_unless_chosen(synth) -> None:
    # Federated users are checked by their IdP: Essentials unless asked; local users: Plus unless declined
    federated = synth("oidc-federation").one("AWS::Cognito::UserPool")["Properties"]
    assert federated["UserPoolTier"] == "ESSENTIALS" and "UserPoolAddOns" not in federated
    declined = synth("local-ses").one("AWS::Cognito::UserPool")
    assert declined["Properties"]["UserPoolTier"] == "ESSENTIALS"
    reasons = [rule["reason"] for rule in declined["Metadata"]["cdk_nag"]["rules_to_suppress"]
               if rule["id"] == "AwsSolutions-COG8"]
    assert len(reasons) == 1 and "cognitoFeaturePlan=essentials" in reasons[0]


def test_invitations_can_be_sent_through_ses(synth) -> None:
    email = synth("local-ses").one("AWS::Cognito::UserPool")["Properties"]["EmailConfiguration"]
    assert email["EmailSendingAccount"] == "DEVELOPER"
    assert email["From"] == "studio-portal@corp.example"
    assert flat(email["SourceArn"]) == (
        "arn:<AWS::Partition>:ses:eu-west-1:<AWS::AccountId>:identity/studio-portal@corp.example")


def test_bumping_the_client_generation_replaces_the_client_and_its_secret(synth) -> None:
    default, saml = synth("default"), synth("saml")
    assert default.logical_id("AWS::Cognito::UserPoolClient").startswith("IdentityUserPoolPortalClient")
    assert saml.logical_id("AWS::Cognito::UserPoolClient").startswith("IdentityUserPoolPortalClient3")
    for result in (default, saml):
        client = result.logical_id("AWS::Cognito::UserPoolClient")
        secret = next(value for value in result.resources("AWS::SecretsManager::Secret").values()
                      if value["Properties"].get("Name"))
        assert client in refs(secret["Properties"]["SecretString"])
        assert secret["Properties"]["Name"] == "SageMakerStudioPortal/oidc-client"  # same name: no redeploy of code


def test_oidc_federation_keeps_the_idp_secret_out_of_the_template(synth) -> None:
    result = synth("oidc-federation")
    provider = result.one("AWS::Cognito::UserPoolIdentityProvider")["Properties"]
    assert provider["ProviderType"] == "OIDC" and provider["ProviderName"] == "EntraID"
    details = provider["ProviderDetails"]
    assert details["oidc_issuer"] == "https://login.microsoftonline.com/contoso/v2.0"
    assert details["authorize_scopes"] == "openid email profile"
    assert provider["AttributeMapping"] == {"email": "email", "email_verified": "email_verified"}
    assert details["client_secret"] == f"{{{{resolve:secretsmanager:{IDP_SECRET}:SecretString:::}}}}"
    assert result.one("AWS::Cognito::UserPoolClient")["Properties"]["SupportedIdentityProviders"] == ["EntraID"]
    assert flat(result.json["Outputs"]["FederationRedirectUrl"]["Value"]).endswith("/oauth2/idpresponse")
    assert "SamlEntityId" not in result.json["Outputs"]
    # The IdP's secret is read by CloudFormation at deploy time, never by the function
    assert IDP_SECRET not in str(statements(result, function_role(result)))
    pool = result.one("AWS::Cognito::UserPool")["Properties"]
    assert pool["MfaConfiguration"] == "OFF" and "EnabledMfas" not in pool


def test_bring_your_own_oidc_issuer_has_no_cognito_at_all(synth) -> None:
    result = synth("byo-oidc-private")
    assert not [value for value in result.json["Resources"].values() if value["Type"].startswith("AWS::Cognito::")]
    env = result.env
    assert env["PORTAL_OIDC_ISSUER"] == "https://acme.okta.com/oauth2/default"
    assert env["PORTAL_OIDC_CLIENT_ID"] == "0oa1b2c3d4"
    assert env["PORTAL_OIDC_CLIENT_SECRET_ARN"] == BYO_SECRET
    by_action = granted(result, function_role(result))
    (secrets,) = by_action["secretsmanager:GetSecretValue"]
    session_key = env["PORTAL_SESSION_KEY_ARN"]["Ref"]
    assert sorted(flat(resource) for resource in as_list(secrets["Resource"])) == sorted(
        [BYO_SECRET, f"<{session_key}>"])
    (decrypt,) = by_action["kms:Decrypt"]
    assert decrypt["Resource"] == BYO_KEY
    assert {key: flat(value) for key, value in decrypt["Condition"]["StringEquals"].items()} == {
        "kms:ViaService": "secretsmanager.<AWS::Region>.<AWS::URLSuffix>"}
    assert len(result.resources("AWS::SecretsManager::Secret")) == 1  # only the session key
    assert {"CognitoDomain", "UserPoolId", "OidcClientSecretName"}.isdisjoint(result.json["Outputs"])


def test_mapping_and_lifetime_settings_reach_the_function(synth) -> None:
    env = synth("byo-oidc-private").env
    assert env["PORTAL_IDENTITY_CLAIM"] == "preferred_username" and env["PORTAL_OWNER_TAG"] == "owner-email"
    assert env["PORTAL_URL_EXPIRES_SECONDS"] == "60" and env["PORTAL_STUDIO_SESSION_SECONDS"] == "3600"
    assert env["PORTAL_SESSION_TTL_SECONDS"] == "3600" and env["LOG_LEVEL"] == "DEBUG"
    assert env["PORTAL_OWNERSHIP_CACHE_SECONDS"] == "0"
    assert env["PORTAL_DOMAIN_ID"] == DOMAIN
    # The documented opt-out for an IdP that never sends email_verified (the identity is not email here)
    assert env["PORTAL_REQUIRE_VERIFIED_EMAIL"] == "false"


def test_no_kms_permission_without_a_customer_managed_key(synth) -> None:
    for name in ("default", "saml", "oidc-federation"):
        result = synth(name)
        assert "kms:Decrypt" not in granted(result, function_role(result))


# --- IAM-enforced ownership ---------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "tag"), [("saml", "studiouserid"), ("byo-oidc-private", "owner-email")])
def test_owner_tag_enforced_by_iam_moves_presigning_to_a_tag_checked_launch_role(synth, name: str, tag: str) -> None:
    result = synth(name)
    roles = result.resources("AWS::IAM::Role")
    fn_role = function_role(result)
    (launch_role,) = [key for key, role in roles.items()
                      if fn_role in refs(role["Properties"]["AssumeRolePolicyDocument"])]
    # The function itself can no longer presign...
    by_action = granted(result, fn_role)
    assert "sagemaker:CreatePresignedDomainUrl" not in by_action
    assert sorted(flat(r) for s in by_action["sagemaker:DescribeUserProfile"] for r in as_list(s["Resource"])) == [
        PROFILES]
    # ...it may only assume the launch role, tagging the session
    (assume,) = by_action["sts:AssumeRole"]
    assert sorted(as_list(assume["Action"])) == ["sts:AssumeRole", "sts:TagSession"]
    assert assume["Resource"] == {"Fn::GetAtt": [launch_role, "Arn"]}
    assert result.env["PORTAL_LAUNCH_ROLE_ARN"] == {"Fn::GetAtt": [launch_role, "Arn"]}
    # The launch role trusts only the function's role, only with the one session tag, present and non-empty
    (trust,) = roles[launch_role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"AWS": {"Fn::GetAtt": [fn_role, "Arn"]}}
    assert sorted(trust["Action"]) == ["sts:AssumeRole", "sts:TagSession"]
    assert trust["Condition"] == {"StringLike": {f"aws:RequestTag/{tag}": "?*"},
                                  "ForAllValues:StringEquals": {"aws:TagKeys": [tag]}}
    assert roles[launch_role]["Properties"]["MaxSessionDuration"] == 3600
    # And it presigns only where the profile's tag equals the session's tag (and never a revoked one)
    (presign,) = [s for s in statements(result, launch_role) if s["Effect"] == "Allow"]
    assert presign["Action"] == "sagemaker:CreatePresignedDomainUrl"
    assert flat(presign["Resource"]) == PROFILES
    assert presign["Condition"] == {"StringEquals": {f"sagemaker:ResourceTag/{tag}": f"${{aws:PrincipalTag/{tag}}}"}}
    assert "LaunchRoleArn" in result.json["Outputs"]


def test_without_enforcement_there_is_no_launch_role(synth) -> None:
    for name in ("default", "oidc-federation"):
        result = synth(name)
        assert "PORTAL_LAUNCH_ROLE_ARN" not in result.env
        assert "sts:AssumeRole" not in granted(result, function_role(result))
        assert "sagemaker:CreatePresignedDomainUrl" in granted(result, function_role(result))


# --- the API and the network ------------------------------------------------------------------------------
def test_custom_domain_with_alias_record(synth) -> None:
    result = synth("saml")
    domain = result.one("AWS::ApiGateway::DomainName")["Properties"]
    assert domain["DomainName"] == "studio.example.com" and domain["SecurityPolicy"] == "TLS_1_2"
    assert domain["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    assert domain["RegionalCertificateArn"].startswith("arn:aws:acm:")
    mapping = result.one("AWS::ApiGateway::BasePathMapping")["Properties"]
    assert mapping["DomainName"] == {"Ref": result.logical_id("AWS::ApiGateway::DomainName")}
    assert "BasePath" not in mapping or mapping["BasePath"] in ("", None)
    record = result.one("AWS::Route53::RecordSet")["Properties"]
    assert record["Name"] == "studio.example.com." and record["Type"] == "A"
    assert record["HostedZoneId"] == "Z0123456789ABCDEFGHIJ"
    # The domain is the only way in, and the portal and its IdP client know the URL in advance
    assert result.one("AWS::ApiGateway::RestApi")["Properties"]["DisableExecuteApiEndpoint"] is True
    assert result.env["PORTAL_BASE_URL"] == "https://studio.example.com"
    client = result.one("AWS::Cognito::UserPoolClient")["Properties"]
    assert client["CallbackURLs"] == ["https://studio.example.com/callback"]
    # The IdP's sign-out returns to the portal's "You have signed out" page
    assert client["LogoutURLs"] == ["https://studio.example.com/signed-out"]
    assert result.json["Outputs"]["PortalUrl"]["Value"] == "https://studio.example.com/"
    assert result.json["Outputs"]["SignOutUrl"]["Value"] == "https://studio.example.com/signed-out"


def test_custom_domain_without_hosted_zone_creates_no_record(synth) -> None:
    result = synth("oidc-federation")
    assert result.one("AWS::ApiGateway::DomainName")["Properties"]["DomainName"] == "portal.studio.example.org"
    assert not result.resources("AWS::Route53::RecordSet")
    assert result.env["PORTAL_BASE_URL"] == "https://portal.studio.example.org"


def test_without_custom_domain_the_base_url_is_resolved_at_run_time(synth) -> None:
    for name in ("default", "byo-oidc-private"):
        result = synth(name)
        assert "PORTAL_BASE_URL" not in result.env
        assert not result.resources("AWS::ApiGateway::DomainName")


def test_allowed_cidrs_resource_policy(synth) -> None:
    result = synth("saml")
    policy = result.one("AWS::ApiGateway::RestApi")["Properties"]["Policy"]["Statement"]
    assert policy == [
        {"Sid": "AllowInvoke", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "execute-api:Invoke",
         "Resource": "execute-api:/*"},
        {"Sid": "DenyOutsideAllowedNetworks", "Effect": "Deny", "Principal": {"AWS": "*"},
         "Action": "execute-api:Invoke", "Resource": "execute-api:/*",
         "Condition": {"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "203.0.113.0/24"]}}},
    ]
    response = result.one("AWS::ApiGateway::GatewayResponse")["Properties"]
    assert response["ResponseType"] == "ACCESS_DENIED" and response["StatusCode"] == "403"
    assert "corporate network" in response["ResponseTemplates"]["application/json"]


def test_private_endpoint_only_through_the_named_vpc_endpoints(synth) -> None:
    result = synth("byo-oidc-private")
    api = result.one("AWS::ApiGateway::RestApi")["Properties"]
    assert api["EndpointConfiguration"] == {
        "Types": ["PRIVATE"], "VpcEndpointIds": ["vpce-0123456789abcdef0", "vpce-0fedcba9876543210"]}
    deny = {statement["Sid"]: statement for statement in api["Policy"]["Statement"]}
    assert deny["DenyOutsideVpcEndpoints"]["Effect"] == "Deny"
    assert deny["DenyOutsideVpcEndpoints"]["Condition"] == {
        "StringNotEquals": {"aws:SourceVpce": ["vpce-0123456789abcdef0", "vpce-0fedcba9876543210"]}}
    # With a private API, source addresses are the VPC's own
    assert deny["DenyOutsideAllowedNetworks"]["Condition"] == {"NotIpAddress": {"aws:VpcSourceIp": ["10.0.0.0/8"]}}


def test_no_resource_policy_without_restrictions(synth) -> None:
    for name in ("default", "oidc-federation"):
        result = synth(name)
        assert "Policy" not in result.one("AWS::ApiGateway::RestApi")["Properties"]
        assert not result.resources("AWS::ApiGateway::GatewayResponse")


def test_waf_can_be_switched_off_and_its_limit_tuned(synth) -> None:
    assert not synth("oidc-federation").resources("AWS::WAFv2::WebACL")
    assert not synth("oidc-federation").resources("AWS::WAFv2::WebACLAssociation")
    assert not synth("oidc-federation").resources("AWS::WAFv2::LoggingConfiguration")
    assert len(synth("oidc-federation").resources("AWS::Logs::LogGroup")) == 2  # the function's and the API's
    # The WAF's log group keeps the configured retention too
    waf_logs = [group for group in synth("saml").resources("AWS::Logs::LogGroup").values()
                if "LogGroupName" in group["Properties"]]
    assert [group["Properties"]["RetentionInDays"] for group in waf_logs] == [365]
    acl = synth("saml").one("AWS::WAFv2::WebACL")["Properties"]
    (rate,) = [rule for rule in acl["Rules"] if "RateBasedStatement" in rule["Statement"]]
    assert rate["Statement"]["RateBasedStatement"]["Limit"] == 2000


def test_stage_name_throttling_and_log_retention_are_configurable(synth) -> None:
    result = synth("oidc-federation")
    stage = result.one("AWS::ApiGateway::Stage")["Properties"]
    assert stage["StageName"] == "v1"
    assert stage["MethodSettings"][0]["ThrottlingRateLimit"] == 5
    assert stage["MethodSettings"][0]["ThrottlingBurstLimit"] == 10
    retention = {group["Properties"]["RetentionInDays"] for group in result.resources("AWS::Logs::LogGroup").values()}
    assert retention == {30}


def test_account_logging_role_can_be_left_to_the_account(synth) -> None:
    result = synth("oidc-federation")
    assert not result.resources("AWS::ApiGateway::Account")
    assert not [role for role in result.resources("AWS::IAM::Role").values()
                if role["Properties"].get("ManagedPolicyArns")]


# --- function and operations ------------------------------------------------------------------------------
def test_reserved_concurrency(synth) -> None:
    assert synth("saml").function["Properties"]["ReservedConcurrentExecutions"] == 20


def test_alarm_email_creates_an_ssl_only_topic(synth) -> None:
    result = synth("saml")
    topic = result.logical_id("AWS::SNS::Topic")
    subscription = result.one("AWS::SNS::Subscription")["Properties"]
    assert subscription == {"Protocol": "email", "TopicArn": {"Ref": topic}, "Endpoint": "ops@example.com"}
    (policy,) = result.resources("AWS::SNS::TopicPolicy").values()
    (deny,) = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    alarms = list(result.resources("AWS::CloudWatch::Alarm").values())
    assert len(alarms) >= 3
    for alarm in alarms:
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic}]
        assert alarm["Properties"]["OKActions"] == [{"Ref": topic}]
    assert result.json["Outputs"]["AlarmTopicArn"]["Value"] == {"Ref": topic}


def test_alarm_topic_arn_uses_an_existing_topic(synth) -> None:
    result = synth("oidc-federation")
    assert not result.resources("AWS::SNS::Topic")
    alarms = list(result.resources("AWS::CloudWatch::Alarm").values())
    assert len(alarms) >= 3
    for alarm in alarms:
        assert alarm["Properties"]["AlarmActions"] == [TOPIC]
