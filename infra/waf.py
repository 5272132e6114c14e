"""AWS WAF in front of the API stage: AWS's managed common and known-bad-input rules, and a per-IP rate limit.

Sampled requests are off: WAF keeps samples with the full URI for hours, and the callback's query string
carries an authorization code. Metrics stay on, so blocks are visible in CloudWatch.

Every request WAF evaluates is logged to a log group of its own (WAF requires the name to start with
``aws-waf-logs-``), retained like the other audit logs, with the query string (the authorization code), the
``cookie`` header (the portal's session and sign-in cookies) and the ``authorization`` header redacted: WAF
writes ``REDACTED`` in their place. The name ends with the stack's unique id, so a redeploy after a teardown
never collides with the group the previous stack left behind.

The rate limit counts requests per client IP over 5 minutes. Employees behind one corporate NAT share an
IP: a sign-in and launch takes about five requests, so the default (1000) allows some 200 launches per
5 minutes per egress IP. Raise ``wafRateLimit`` for large offices.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Aws, Fn, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from infra.config import WafSettings
from infra.logs import retention

LOG_GROUP_PREFIX = "aws-waf-logs-"
# Bearer credentials a request may carry: never written to WAF's logs.
REDACTED_HEADERS = ("cookie", "authorization")

TOO_MANY_REQUESTS_PAGE = (
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Too many requests</title></head>"
    "<body style=\"font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto\"><h1>Too many requests"
    "</h1><p>The SageMaker Studio portal received too many requests from your network. Wait a few minutes "
    "and try again.</p></body></html>"
)


def _visibility(metric: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=False)


def _managed(name: str, priority: int) -> wafv2.CfnWebACL.RuleProperty:
    return wafv2.CfnWebACL.RuleProperty(
        name=name, priority=priority,
        statement=wafv2.CfnWebACL.StatementProperty(
            managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                vendor_name="AWS", name=name)),
        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
        visibility_config=_visibility(name),
    )


class PortalWaf(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, settings: WafSettings, stage: apigw.Stage,
                 name: str, log_retention_days: int) -> None:
        super().__init__(scope, construct_id)
        rate_rule = wafv2.CfnWebACL.RuleProperty(
            name="RateLimitPerIp", priority=0,
            statement=wafv2.CfnWebACL.StatementProperty(
                rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                    limit=settings.rate_limit, aggregate_key_type="IP", evaluation_window_sec=300)),
            action=wafv2.CfnWebACL.RuleActionProperty(block=wafv2.CfnWebACL.BlockActionProperty(
                custom_response=wafv2.CfnWebACL.CustomResponseProperty(
                    response_code=429, custom_response_body_key="TooManyRequests"))),
            visibility_config=_visibility("RateLimitPerIp"),
        )
        self.web_acl = wafv2.CfnWebACL(
            self, "WebAcl",
            name=f"{name}-waf",
            description="SageMaker Studio portal: AWS managed rules and a per-IP rate limit",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(f"{name}-waf"),
            custom_response_bodies={"TooManyRequests": wafv2.CfnWebACL.CustomResponseBodyProperty(
                content_type="TEXT_HTML", content=TOO_MANY_REQUESTS_PAGE)},
            rules=[
                rate_rule,
                _managed("AWSManagedRulesCommonRuleSet", 10),
                _managed("AWSManagedRulesKnownBadInputsRuleSet", 20),
            ],
        )
        self.association = wafv2.CfnWebACLAssociation(
            self, "Association", resource_arn=stage.stage_arn, web_acl_arn=self.web_acl.attr_arn)
        self._logging(name, log_retention_days)

    def _logging(self, name: str, days: int) -> None:
        stack_uuid = Fn.select(2, Fn.split("/", Aws.STACK_ID))
        self.log_group = logs.LogGroup(
            self, "Logs", log_group_name=Fn.join("", [LOG_GROUP_PREFIX, name, "-", stack_uuid]),
            retention=retention(days), removal_policy=RemovalPolicy.RETAIN)
        # WAF wants the log group's ARN without the ":*" that LogGroup.log_group_arn ends with.
        destination = Stack.of(self).format_arn(
            service="logs", resource="log-group", resource_name=self.log_group.log_group_name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME)
        self.logging = wafv2.CfnLoggingConfiguration(
            self, "Logging", resource_arn=self.web_acl.attr_arn, log_destination_configs=[destination],
            redacted_fields=[
                wafv2.CfnLoggingConfiguration.FieldToMatchProperty(query_string={}),
                *(wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": header})
                  for header in REDACTED_HEADERS),
            ])
