"""The portal's one stack: identity, secrets, function, API, WAF and alarms, composed from ``PortalConfig``."""

from __future__ import annotations

from typing import Any

from aws_cdk import Annotations, Aws, CfnOutput, CfnRule, CfnRuleAssertion, Fn, Stack, Token
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.api import PortalApi
from infra.config import PLACEHOLDER_DOMAIN_ID, ConfigError, PortalConfig, SamlFederation, arn_region
from infra.function import METRICS_NAMESPACE, SERVICE_NAME, PortalFunction
from infra.guard import OwnerTagGuard
from infra.identity import CognitoIdentity, external_oidc_wiring
from infra.monitoring import PortalMonitoring
from infra.nag import suppress
from infra.secrets import session_key_secret
from infra.waf import PortalWaf


class PortalStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: PortalConfig,
                 code: lambda_.Code | None = None, **kwargs: Any) -> None:
        super().__init__(scope, construct_id,
                         description="SageMaker Studio portal: OIDC sign-in and a redirect into Studio", **kwargs)
        self.config = config
        self._check_region()
        if config.uses_placeholder_domain:
            Annotations.of(self).add_warning_v2(
                "portal:placeholder-domain",
                f"domainId is still the placeholder {PLACEHOLDER_DOMAIN_ID} from cdk.json: this synthesizes, but a "
                "deployed portal could launch nothing. Deploy with -c domainId=d-... (aws sagemaker list-domains).")

        self.session_key = session_key_secret(self, "SessionKey")

        self.cognito: CognitoIdentity | None = None
        if config.identity_source == "cognito":
            assert config.cognito is not None
            self.cognito = CognitoIdentity(self, "Identity", stack_name=config.stack_name, settings=config.cognito)
            oidc = self.cognito.wiring
        else:
            assert config.external_oidc is not None
            oidc = external_oidc_wiring(config.external_oidc)

        # A custom domain is known before anything is deployed, so the function may be told its URL;
        # otherwise the portal derives it from each request (the API's URL would be a dependency cycle).
        fixed_base_url = f"https://{config.custom_domain.name}" if config.custom_domain else None
        self.portal = PortalFunction(self, "Portal", config=config, oidc=oidc, session_key=self.session_key,
                                     base_url=fixed_base_url, code=code)
        self.api = PortalApi(self, "Api", config=config, handler=self.portal.alias)

        self.waf: PortalWaf | None = None
        if config.waf.enabled:
            self.waf = PortalWaf(self, "Waf", settings=config.waf, stage=self.api.stage, name=config.stack_name,
                                log_retention_days=config.log_retention_days)
        else:
            suppress(self.api.stage, "AwsSolutions-APIG3",
                     "AWS WAF was switched off for this deployment (context waf=false), e.g. because the API is "
                     "private or the organisation's own edge filters traffic; the default deploys a web ACL.")

        if self.cognito is not None:
            self.cognito.add_portal_client(callback_url=self.api.callback_url, logout_url=self.api.sign_out_url)

        self.guard = OwnerTagGuard(self, "OwnerTagGuard", owner_tag=config.owner_tag)
        self.monitoring = PortalMonitoring(self, "Monitoring", function=self.portal.function,
                                           rest_api=self.api.rest_api, alarm_email=config.alarm_email,
                                           alarm_topic_arn=config.alarm_topic_arn, name=config.stack_name,
                                           namespace=METRICS_NAMESPACE, service=SERVICE_NAME,
                                           function_logs=self.portal.log_group,
                                           web_acl_name=self.waf.web_acl.name if self.waf else None)
        self._outputs()

    def _check_region(self) -> None:
        """Given ARNs must be in the stack's region: refused at synth when the region is known; otherwise the
        template asserts at deploy time that it is deployed where they are (a CloudFormation rule)."""
        known = None if Token.is_unresolved(self.region) else self.region
        problems = self.config.region_problems(known)
        if problems:
            raise ConfigError(problems)
        arns = self.config.regional_arns
        if known is None and arns:
            region = arn_region(arns[0][1])
            CfnRule(self, "DeployedWhereTheGivenResourcesAre", assertions=[CfnRuleAssertion(
                assert_=Fn.condition_equals(Aws.REGION, region),
                assert_description=f"{', '.join(key for key, _ in arns)} name resources in {region}: deploy this "
                                   f"stack to {region}")])

    def _outputs(self) -> None:
        CfnOutput(self, "PortalUrl", value=self.api.portal_url,
                  description="The portal: bookmark it, or make it the URL of an SSO tile")
        CfnOutput(self, "CallbackUrl", value=self.api.callback_url,
                  description="OIDC redirect URI (register it at your IdP when identitySource=oidc)")
        CfnOutput(self, "SignOutUrl", value=self.api.sign_out_url,
                  description="Where the IdP returns after sign-out (post-logout redirect URI: register it at your "
                              "IdP when identitySource=oidc; Cognito's app client already lists it)")
        CfnOutput(self, "OwnerTagGuardPolicyArn", value=self.guard.policy.managed_policy_arn,
                  description="Managed policy denying changes to the owner and revoked tags: attach it to Studio "
                              "execution roles and to people (docs/deploy.md)")
        CfnOutput(self, "DashboardUrl", value=self.monitoring.dashboard_url,
                  description="CloudWatch dashboard: sign-ins, launches, refusals, errors, latency, cold starts, "
                              "throttling, WAF blocks")
        CfnOutput(self, "SessionKeySecretArn", value=self.session_key.secret_arn,
                  description="Secret holding the session cookie key")
        if self.cognito is not None:
            CfnOutput(self, "CognitoDomain", value=self.cognito.login_base_url,
                      description="Cognito managed login (hosted UI) base URL")
            CfnOutput(self, "UserPoolId", value=self.cognito.user_pool.user_pool_id,
                      description="Cognito user pool: create users here, or manage federation")
            CfnOutput(self, "OidcClientSecretName", value=self.cognito.secret_name,
                      description="Secrets Manager secret with the portal's Cognito client id and secret")
            federation = self.cognito.settings.federation
            if isinstance(federation, SamlFederation):
                CfnOutput(self, "SamlEntityId", value=self.cognito.saml_entity_id,
                          description="SAML audience (SP entity id) to register at the corporate IdP")
            if federation is not None:
                CfnOutput(self, "FederationRedirectUrl", value=self.cognito.federation_redirect_url,
                          description="Reply URL (SAML ACS) or redirect URI to register at the corporate IdP")
        if any(target.via_role for target in self.config.targets):
            CfnOutput(self, "FunctionRoleArn", value=self.portal.role.role_arn,
                      description="The portal function's role: the principal to trust in each target's role_arn "
                                  "(docs/deploy.md)")
        if self.portal.launch_role is not None:
            CfnOutput(self, "LaunchRoleArn", value=self.portal.launch_role.role_arn,
                      description="Role that presigns Studio URLs only for profiles tagged with the user")
        if self.monitoring.topic is not None:
            CfnOutput(self, "AlarmTopicArn", value=self.monitoring.topic.topic_arn,
                      description="SNS topic the portal's alarms notify")
