"""Alarms that page someone when employees cannot get into Studio, and an optional SNS topic for them.

* Function errors (any, over 5 minutes): the portal turns every expected failure into a page with a 4xx/5xx
  status, so an error counted by Lambda is a crash or a timeout.
* Function throttles (any): someone was turned away because of concurrency (see ``reservedConcurrency``).
* API 5xx responses (5 or more over 5 minutes): the portal's own "unavailable" pages, Lambda timeouts
  seen as 502/504, and integration failures; a handful filters out a single user's bad luck.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

PERIOD = Duration.minutes(5)


class PortalMonitoring(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, function: lambda_.IFunction,
                 rest_api: apigw.RestApi, alarm_email: str | None, alarm_topic_arn: str | None) -> None:
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
            for alarm in self.alarms:
                alarm.add_alarm_action(actions.SnsAction(self.topic))
                alarm.add_ok_action(actions.SnsAction(self.topic))
