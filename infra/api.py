"""The API Gateway REST API in front of the function.

Routes: ``GET /`` and ``GET /{proxy+}``, both a Lambda proxy integration. Every path the portal serves
(``/``, ``/callback``, ``/logout``, ``/signed-out``, ``/health``, ``/status`` and whatever comes next) reaches
the function, which answers unknown paths with its own "not found" page; any other method is refused by API Gateway
without invoking the function (the portal is reached by top-level browser navigation only, so it only ever
sees GET).

Security settings
-----------------
* Regional endpoint by default; ``endpointType=private`` makes it reachable only through the listed VPC
  interface endpoints (a resource policy denies every other ``aws:SourceVpce``).
* ``allowedCidrs``: a resource policy that denies callers outside those networks (``aws:SourceIp``, or
  ``aws:VpcSourceIp`` for a private API), with a readable "wrong network" page instead of API Gateway's JSON.
* A custom domain (``customDomainName`` + ``certificateArn``, TLS 1.2 minimum) disables the default
  ``execute-api`` endpoint, so the domain (and the WAF in front of the stage) is the only way in.
* Stage throttling, X-Ray tracing, CloudWatch metrics, execution logs at ERROR level without data tracing,
  and JSON access logs that record the *resource path*, never the request path with its query string
  (the OIDC callback's query string carries the authorization code), nor headers or cookies.
"""

from __future__ import annotations

import json

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as targets
from constructs import Construct

from infra.config import NetworkSettings, PortalConfig
from infra.logs import audit_log_group
from infra.nag import policy_finding, suppress

# $context variables only: no $context.path (it is the request path, and the query string is never logged
# by any variable here), no headers, no cookies, no $context.requestOverride.
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "requestTime": "$context.requestTime",
    "ip": "$context.identity.sourceIp",
    "vpceId": "$context.identity.vpceId",
    "userAgent": "$context.identity.userAgent",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "protocol": "$context.protocol",
    "domainName": "$context.domainName",
    "stage": "$context.stage",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integration.latency",
    "integrationStatus": "$context.integration.status",
    "errorType": "$context.error.responseType",
    "wafStatus": "$context.waf.status",
    "xrayTraceId": "$context.xrayTraceId",
}

WRONG_NETWORK_PAGE = (
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not available from this network"
    "</title></head><body style=\"font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto\">"
    "<h1>Not available from this network</h1><p>The SageMaker Studio portal can only be opened from the "
    "corporate network. Connect to the VPN (or the office network) and try again.</p></body></html>"
)


def resource_policy(network: NetworkSettings) -> iam.PolicyDocument:
    """Allow invocation, then deny whatever comes from outside the allowed endpoints or networks."""
    statements = [iam.PolicyStatement(
        sid="AllowInvoke", effect=iam.Effect.ALLOW, principals=[iam.AnyPrincipal()],
        actions=["execute-api:Invoke"], resources=["execute-api:/*"],
    )]
    if network.endpoint_type == "private":
        statements.append(iam.PolicyStatement(
            sid="DenyOutsideVpcEndpoints", effect=iam.Effect.DENY, principals=[iam.AnyPrincipal()],
            actions=["execute-api:Invoke"], resources=["execute-api:/*"],
            conditions={"StringNotEquals": {"aws:SourceVpce": list(network.vpc_endpoint_ids)}},
        ))
    if network.allowed_cidrs:
        source_key = "aws:VpcSourceIp" if network.endpoint_type == "private" else "aws:SourceIp"
        statements.append(iam.PolicyStatement(
            sid="DenyOutsideAllowedNetworks", effect=iam.Effect.DENY, principals=[iam.AnyPrincipal()],
            actions=["execute-api:Invoke"], resources=["execute-api:/*"],
            conditions={"NotIpAddress": {source_key: list(network.allowed_cidrs)}},
        ))
    return iam.PolicyDocument(statements=statements)


class PortalApi(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: PortalConfig,
                 handler: lambda_.IFunction) -> None:
        super().__init__(scope, construct_id)
        network = config.network
        private = network.endpoint_type == "private"
        self.access_logs = audit_log_group(self, "AccessLogs", days=config.log_retention_days)

        vpc_endpoints = [
            ec2.InterfaceVpcEndpoint.from_interface_vpc_endpoint_attributes(
                self, f"VpcEndpoint{index}", vpc_endpoint_id=endpoint_id, port=443)
            for index, endpoint_id in enumerate(network.vpc_endpoint_ids)
        ]
        self.rest_api = apigw.RestApi(
            self, "RestApi",
            rest_api_name=f"{config.stack_name}-api",
            description="SageMaker Studio portal: signs employees in and redirects them into Studio",
            endpoint_configuration=apigw.EndpointConfiguration(
                types=[apigw.EndpointType.PRIVATE if private else apigw.EndpointType.REGIONAL],
                vpc_endpoints=vpc_endpoints or None,
            ),
            policy=resource_policy(network) if network.restricted else None,
            disable_execute_api_endpoint=config.custom_domain is not None,
            # API Gateway writes logs through one role per account and region (AWS::ApiGateway::Account).
            cloud_watch_role=config.api_gateway_cloudwatch_role,
            # Other APIs in the account may rely on it: keep it when this stack goes.
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN if config.api_gateway_cloudwatch_role else None,
            deploy_options=apigw.StageOptions(
                stage_name=config.stage_name,
                throttling_rate_limit=config.throttle_rate_limit,
                throttling_burst_limit=config.throttle_burst_limit,
                tracing_enabled=True,
                metrics_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # would log full requests, authorization codes included
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS)),
            ),
        )
        # The portal's URL is output as PortalUrl (the custom domain when there is one); CDK's own Endpoint
        # output would repeat it, or point at the disabled execute-api endpoint.
        self.rest_api.node.try_remove_child("Endpoint")
        integration = apigw.LambdaIntegration(handler, proxy=True, allow_test_invoke=False)
        self.methods = [
            self.rest_api.root.add_method("GET", integration),
            self.rest_api.root.add_resource("{proxy+}").add_method("GET", integration),
        ]

        if network.restricted:
            self.rest_api.add_gateway_response(
                "WrongNetwork", type=apigw.ResponseType.ACCESS_DENIED, status_code="403",
                response_headers={"Content-Type": "'text/html; charset=utf-8'"},
                templates={"application/json": WRONG_NETWORK_PAGE, "text/html": WRONG_NETWORK_PAGE},
            )

        self.domain: apigw.DomainName | None = None
        custom = config.custom_domain
        if custom is not None:
            self.domain = apigw.DomainName(
                self, "Domain",
                domain_name=custom.name,
                certificate=acm.Certificate.from_certificate_arn(self, "Certificate", custom.certificate_arn),
                endpoint_type=apigw.EndpointType.REGIONAL,
                security_policy=apigw.SecurityPolicy.TLS_1_2,
                mapping=self.rest_api,
            )
            if custom.hosted_zone_id and custom.hosted_zone_name:
                zone = route53.HostedZone.from_hosted_zone_attributes(
                    self, "Zone", hosted_zone_id=custom.hosted_zone_id, zone_name=custom.hosted_zone_name)
                route53.ARecord(self, "Alias", zone=zone, record_name=custom.name,
                                target=route53.RecordTarget.from_alias(targets.ApiGatewayDomain(self.domain)))
            self.portal_url = f"https://{custom.name}/"
        else:
            self.portal_url = self.rest_api.url  # https://<id>.execute-api.<region>.<suffix>/<stage>/

        self.callback_url = f"{self.portal_url}callback"
        # Where the IdP sends the browser back after signing out: the portal's "You have signed out" page.
        self.sign_out_url = f"{self.portal_url}signed-out"
        self._acknowledge(config)

    @property
    def stage(self) -> apigw.Stage:
        return self.rest_api.deployment_stage

    def _acknowledge(self, config: PortalConfig) -> None:
        for method in self.methods:
            suppress(method, "AwsSolutions-APIG4",
                     "The portal authenticates users itself with OpenID Connect (authorization code flow with "
                     "state, nonce and PKCE): browsers arrive by top-level navigation from a bookmark or SSO tile "
                     "without any token, so an API Gateway authorizer could only reject them before they sign in.")
            suppress(method, "AwsSolutions-COG4",
                     "Same reason as APIG4: a Cognito authorizer needs a token in the request, but the portal is "
                     "where users get signed in (by Cognito or the corporate IdP) in the first place.")
        suppress(self.rest_api, "AwsSolutions-APIG2",
                 "There are no request bodies or models to validate: the only method is GET, and its few query "
                 "parameters (code, state, error, deep-link targets) are validated by the function itself.")
        if config.api_gateway_cloudwatch_role:
            role = self.rest_api.node.try_find_child("CloudWatchRole")
            if role is not None:
                suppress(role, "AwsSolutions-IAM4",
                         "AmazonAPIGatewayPushToCloudWatchLogs is the role AWS documents for the account-wide API "
                         "Gateway logging setting; it serves every API in the account and region, so it cannot be "
                         "scoped to this API's log groups. Disable with apiGatewayCloudWatchRole=false.",
                         findings=[policy_finding(self, iam.ManagedPolicy.from_aws_managed_policy_name(
                             "service-role/AmazonAPIGatewayPushToCloudWatchLogs").managed_policy_arn)])
