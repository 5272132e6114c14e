"""The operations dashboard: one widget per question, each alarm's threshold drawn on its metric's graph."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.infra.conftest import flat

pytestmark = pytest.mark.infra


def body(result) -> dict[str, Any]:
    (dashboard,) = result.resources("AWS::CloudWatch::Dashboard").values()
    parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"][1]
    # References become <LogicalId> placeholders inside the JSON strings
    return json.loads("".join(part if isinstance(part, str) else flat(part) for part in parts))


def widgets(result) -> dict[str, dict[str, Any]]:
    return {widget["properties"]["title"]: widget for widget in body(result)["widgets"]}


def dimensions(item: list[Any]) -> dict[str, Any]:
    pairs = item[2:-1]
    return dict(zip(pairs[::2], pairs[1::2], strict=True))


def metric_names(widget: dict[str, Any]) -> set[str]:
    return {item[1] for item in widget["properties"].get("metrics", []) if isinstance(item[0], str)}


QUESTIONS = ("Are people getting in?", "Who is being refused, and why?", "Is the portal broken?",
             "Is the API failing?", "How fast is the function?", "How fast is the portal for people?",
             "How often do people wait for a cold start?", "Is AWS throttling the portal?", "What does WAF block?")


def test_each_question_has_its_widget(synth) -> None:
    titles = list(widgets(synth("default")))
    assert [next(title for title in titles if title.startswith(question)) for question in QUESTIONS]
    found = widgets(synth("default"))
    by_question = {question: found[next(t for t in found if t.startswith(question))] for question in QUESTIONS}
    assert metric_names(by_question["Are people getting in?"]) == {
        "SignInStarted", "SignIns", "Launches", "ProfilesPreparing", "LaunchFailures"}
    (refusals,) = by_question["Who is being refused, and why?"]["properties"]["metrics"]
    assert refusals[0]["expression"].startswith("SEARCH('{StudioPortal,Reason,service} MetricName=\"Refusals\"")
    stats = {item[-1]["stat"] for item in by_question["How fast is the function?"]["properties"]["metrics"]}
    assert stats == {"p50", "p99"}
    api = by_question["How fast is the portal for people?"]["properties"]["metrics"]
    assert {(item[1], item[-1]["stat"]) for item in api} == {
        ("Latency", "p50"), ("Latency", "p99"), ("IntegrationLatency", "p50"), ("IntegrationLatency", "p99")}
    throttling = by_question["Is AWS throttling the portal?"]["properties"]["metrics"]
    assert {dimensions(item)["Reason"] for item in throttling} == {"aws_throttled", "aws_unavailable"}
    cold = by_question["How often do people wait for a cold start?"]["properties"]
    assert "Restore Duration" in cold["query"] and "Init Duration" in cold["query"]
    function_logs = synth("default").function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    assert f"SOURCE '<{function_logs}>'" in cold["query"]
    waf = by_question["What does WAF block?"]["properties"]["metrics"]
    assert {item[1] for item in waf} == {"BlockedRequests", "AllowedRequests"}
    assert {dimensions(item)["WebACL"] for item in waf} == {"SageMakerStudioPortal-waf"}
    assert {dimensions(item)["Rule"] for item in waf} == {
        "ALL", "RateLimitPerIp", "AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"}


@pytest.mark.parametrize("name", ["default", "oidc-federation"])
def test_every_alarm_threshold_is_drawn_on_the_graph_of_its_metric(synth, name: str) -> None:
    result = synth(name)
    alarms = list(result.resources("AWS::CloudWatch::Alarm").values())
    assert len(alarms) == 3
    for alarm in alarms:
        metric, threshold = alarm["Properties"]["MetricName"], alarm["Properties"]["Threshold"]
        showing = [widget for widget in widgets(result).values() if metric in metric_names(widget)
                   and widget["properties"]["metrics"][0][0] == alarm["Properties"]["Namespace"]]
        assert showing, metric
        for widget in showing:
            values = [line["value"] for line in widget["properties"].get("annotations", {}).get("horizontal", [])]
            assert threshold in values, (metric, widget["properties"]["title"])


def test_without_waf_there_is_no_waf_widget_and_the_url_is_output(synth) -> None:
    assert not [title for title in widgets(synth("oidc-federation")) if title.startswith("What does WAF block?")]
    template = synth("default").json
    parts = template["Outputs"]["DashboardUrl"]["Value"]["Fn::Join"][1]
    dashboard = synth("default").logical_id("AWS::CloudWatch::Dashboard")
    # The console's domain by partition (the template does not know it before deploy), then region and name
    mapping, partition, key = parts[1]["Fn::FindInMap"]
    assert (partition, key) == ({"Ref": "AWS::Partition"}, "Domain")
    assert {name: row["Domain"] for name, row in template["Mappings"][mapping].items()} == {
        "aws": "console.aws.amazon.com", "aws-cn": "console.amazonaws.cn", "aws-us-gov": "console.amazonaws-us-gov.com"}
    assert [parts[0], *(flat(part) for part in parts[2:])] == [
        "https://", "/cloudwatch/home?region=", "<AWS::Region>", "#dashboards/dashboard/", f"<{dashboard}>"]
    # One dashboard per stack and region: dashboard names are per account
    name = synth("default").resources("AWS::CloudWatch::Dashboard")[dashboard]["Properties"]["DashboardName"]
    assert flat(name) == "SageMakerStudioPortal-<AWS::Region>"
