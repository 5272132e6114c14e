"""AWS WAF in front of the API stage: AWS's managed common and known-bad-input rules, and a per-IP rate limit.

Sampled requests are off: WAF keeps samples with the full URI for hours, and the callback's query string
carries an authorization code. Metrics stay on, so blocks are visible in CloudWatch.

The rate limit counts requests per client IP over 5 minutes. Employees behind one corporate NAT share an
IP: a sign-in and launch takes about five requests, so the default (1000) allows some 200 launches per
5 minutes per egress IP. Raise ``wafRateLimit`` for large offices.
"""

from __future__ import annotations

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from infra.config import WafSettings

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
                 name: str) -> None:
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
