"""Alarms that page someone when employees cannot get into Studio, and an optional SNS topic for them.

* Function errors (any, over 5 minutes): the portal turns every expected failure into a page with a 4xx/5xx
  status, so an error counted by Lambda is a crash or a timeout.
* Function throttles (any): someone was turned away because of concurrency (see ``reservedConcurrency``).
* API 5xx responses (5 or more over 5 minutes): the portal's own "unavailable" pages, Lambda timeouts
  seen as 502/504, and integration failures; a handful filters out a single user's bad luck.

The dashboard (output ``DashboardUrl``) answers the questions operations ask, one widget each (docs/deploy.md
lists them), with each alarm's threshold drawn on the graph of the metric it watches.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, CfnMapping, Duration, Fn
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

PERIOD = Duration.minutes(5)
WIDGET_WIDTH = 12
CONSOLE_DOMAINS = {"aws": "console.aws.amazon.com", "aws-cn": "console.amazonaws.cn",
                   "aws-us-gov": "console.amazonaws-us-gov.com"}
# Lambda writes a REPORT line per invocation; "Init Duration" marks a cold start, "Restore Duration" a SnapStart
# restore (the function's platform logs are text).
COLD_START_QUERY = "\n".join([
    'filter @type = "REPORT"',
    "| parse @message /Init Duration: (?<init_ms>[0-9.]+) ms/",
    "| parse @message /Restore Duration: (?<restore_ms>[0-9.]+) ms/",
    "| stats count(init_ms) as cold_starts, count(restore_ms) as restores, pct(init_ms, 99) as init_p99_ms, "
    "pct(restore_ms, 99) as restore_p99_ms, count(*) as invocations by bin(5m)",
])


class PortalMonitoring(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, function: lambda_.IFunction,
                 rest_api: apigw.RestApi, alarm_email: str | None, alarm_topic_arn: str | None,
                 name: str, namespace: str, service: str, function_logs: logs.ILogGroup,
                 web_acl_name: str | None) -> None:
        super().__init__(scope, construct_id)
        self.topic: sns.ITopic | None = None
        if alarm_topic_arn:
            self.topic = sns.Topic.from_topic_arn(self, "AlarmTopic", alarm_topic_arn)
        elif alarm_email:
            topic = sns.Topic(self, "AlarmTopic", display_name="SageMaker Studio portal alarms", enforce_ssl=True)
            topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
            self.topic = topic

        def alarm(alarm_id: str, description: str, metric: cloudwatch.Metric, threshold: int) -> cloudwatch.Alarm:
            return cloudwatch.Alarm(
                self, alarm_id, alarm_description=description, metric=metric, threshold=threshold,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )

        self.alarms = [
            alarm("FunctionErrors",
                  "The Studio portal function failed (crash or timeout): users may not reach Studio.",
                  function.metric_errors(period=PERIOD, statistic="Sum"), 1),
            alarm("FunctionThrottles", "The Studio portal function was throttled: users were turned away.",
                  function.metric_throttles(period=PERIOD, statistic="Sum"), 1),
            alarm("Api5xx", "The Studio portal API returned server errors (5xx).",
                  rest_api.metric_server_error(period=PERIOD, statistic="Sum"), 5),
        ]
        if self.topic is not None:
            for each in self.alarms:
                each.add_alarm_action(actions.SnsAction(self.topic))
                each.add_ok_action(actions.SnsAction(self.topic))
        self.dashboard = self._dashboard(name, function, rest_api, namespace, service, function_logs, web_acl_name)

    def _dashboard(self, name: str, function: lambda_.IFunction, rest_api: apigw.RestApi, namespace: str,
                   service: str, function_logs: logs.ILogGroup, web_acl_name: str | None) -> cloudwatch.Dashboard:
        errors_alarm, throttles_alarm, api_alarm = self.alarms

        def portal(metric: str, label: str, **dimensions: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(namespace=namespace, metric_name=metric, label=label, period=PERIOD,
                                     statistic="Sum", dimensions_map={**dimensions, "service": service})

        def graph(title: str, left: list[cloudwatch.IMetric], alarms: tuple[cloudwatch.Alarm, ...] = (),
                  **options: Any) -> cloudwatch.GraphWidget:
            return cloudwatch.GraphWidget(title=title, left=left, width=WIDGET_WIDTH, height=6,
                                          left_annotations=[alarm.to_annotation() for alarm in alarms] or None,
                                          **options)

        def percentiles(metric: cloudwatch.Metric, what: str) -> list[cloudwatch.IMetric]:
            return [metric.with_(statistic=statistic, label=f"{what} {statistic}", period=PERIOD)
                    for statistic in ("p50", "p99")]

        refusals = cloudwatch.MathExpression(
            expression=f"SEARCH('{{{namespace},Reason,service}} MetricName=\"Refusals\" service=\"{service}\"', "
                       f"'Sum', {int(PERIOD.to_seconds())})",
            label="", period=PERIOD)
        widgets: list[cloudwatch.IWidget] = [
            graph("Are people getting in? Sign-ins and launches", [
                portal("SignInStarted", "sign-ins started"), portal("SignIns", "sign-ins completed"),
                portal("Launches", "launches into Studio"), portal("ProfilesPreparing", "first visits preparing"),
                portal("LaunchFailures", "launches refused or failed")]),
            graph("Who is being refused, and why? Refusals by reason", [refusals]),
            graph("Is the portal broken? Crashes, timeouts, throttles, unexpected errors", [
                function.metric_errors(period=PERIOD, statistic="Sum", label="function errors (crash, timeout)"),
                function.metric_throttles(period=PERIOD, statistic="Sum", label="function throttles"),
                portal("UnexpectedErrors", "unexpected errors (500 page)")],
                (errors_alarm, throttles_alarm)),
            graph("Is the API failing? Server and client errors", [
                rest_api.metric_server_error(period=PERIOD, statistic="Sum", label="5xx"),
                rest_api.metric_client_error(period=PERIOD, statistic="Sum", label="4xx (refusal pages)")],
                (api_alarm,)),
            graph("How fast is the function? Duration p50 / p99 (ms)",
                  percentiles(function.metric_duration(), "duration")),
            graph("How fast is the portal for people? API latency p50 / p99 (ms)",
                  percentiles(rest_api.metric_latency(), "latency")
                  + percentiles(rest_api.metric_integration_latency(), "integration latency")),
            cloudwatch.LogQueryWidget(
                title="How often do people wait for a cold start? Cold starts and SnapStart restores",
                log_group_names=[function_logs.log_group_name], query_string=COLD_START_QUERY,
                view=cloudwatch.LogQueryVisualizationType.LINE, width=WIDGET_WIDTH, height=6),
            graph("Is AWS throttling the portal? SageMaker/STS calls that failed after retries", [
                portal("Refusals", "throttled (after the SDK's 3 attempts)", Reason="aws_throttled"),
                portal("Refusals", "unavailable (5xx, timeouts)", Reason="aws_unavailable")]),
        ]
        if web_acl_name is not None:
            def waf(metric: str, rule: str, label: str) -> cloudwatch.Metric:
                return cloudwatch.Metric(namespace="AWS/WAFV2", metric_name=metric, label=label, period=PERIOD,
                                         statistic="Sum",
                                         dimensions_map={"WebACL": web_acl_name, "Region": Aws.REGION, "Rule": rule})
            widgets.append(graph("What does WAF block? Blocked requests by rule", [
                waf("BlockedRequests", "ALL", "all blocked"),
                waf("BlockedRequests", "RateLimitPerIp", "rate limit (429)"),
                waf("BlockedRequests", "AWSManagedRulesCommonRuleSet", "common rule set"),
                waf("BlockedRequests", "AWSManagedRulesKnownBadInputsRuleSet", "known bad inputs"),
                waf("AllowedRequests", "ALL", "allowed")]))
        return cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=Fn.join("-", [name, Aws.REGION]),
            default_interval=Duration.hours(24),
            widgets=[widgets[index:index + 2] for index in range(0, len(widgets), 2)])  # two per row

    @property
    def dashboard_url(self) -> str:
        # The console's domain depends on the partition, which an environment-agnostic template learns at deploy.
        consoles = CfnMapping(self, "Console", mapping={partition: {"Domain": domain} for partition, domain in
                                                        CONSOLE_DOMAINS.items()})
        return Fn.join("", ["https://", consoles.find_in_map(Aws.PARTITION, "Domain"), "/cloudwatch/home?region=",
                            Aws.REGION, "#dashboards/dashboard/", self.dashboard.dashboard_name])
