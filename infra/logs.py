"""Log groups with the configured retention, kept when the stack is deleted (they are the audit trail)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Construct

_RETENTION = {
    1: "ONE_DAY", 3: "THREE_DAYS", 5: "FIVE_DAYS", 7: "ONE_WEEK", 14: "TWO_WEEKS", 30: "ONE_MONTH",
    60: "TWO_MONTHS", 90: "THREE_MONTHS", 120: "FOUR_MONTHS", 150: "FIVE_MONTHS", 180: "SIX_MONTHS",
    365: "ONE_YEAR", 400: "THIRTEEN_MONTHS", 545: "EIGHTEEN_MONTHS", 731: "TWO_YEARS", 1096: "THREE_YEARS",
    1827: "FIVE_YEARS", 2192: "SIX_YEARS", 2557: "SEVEN_YEARS", 2922: "EIGHT_YEARS", 3288: "NINE_YEARS",
    3653: "TEN_YEARS",
}


def retention(days: int) -> logs.RetentionDays:
    return getattr(logs.RetentionDays, _RETENTION[days])


def audit_log_group(scope: Construct, construct_id: str, *, days: int) -> logs.LogGroup:
    """A log group named by CloudFormation (so a redeploy after a teardown never collides with the group a
    previous stack left behind) and retained on stack deletion."""
    return logs.LogGroup(scope, construct_id, retention=retention(days), removal_policy=RemovalPolicy.RETAIN)
