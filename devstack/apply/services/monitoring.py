"""aws:sns/topic:Topic, aws:sns/topicSubscription:TopicSubscription,
aws:cloudwatch/metricAlarm:MetricAlarm."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from devstack.apply.kinds import Created, CreateRequest, ResourceKind, To

_METRIC_FIELDS = {"namespace": "Namespace", "metricName": "MetricName", "dimensions": "Dimensions"}


def create_topic(req: CreateRequest) -> Created:
    arn = req.call()["TopicArn"]
    return Created(arn, {"name": req.require("name"), "arn": arn})


def create_subscription(req: CreateRequest) -> Created:
    arn = req.call(ReturnSubscriptionArn=True)["SubscriptionArn"]
    return Created(arn, {"arn": arn})


def _dimensions(value: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Name": k, "Value": v} for k, v in sorted(value.items())]


def _metric_stat(query: dict[str, Any]) -> dict[str, Any]:
    """A metric query's `metric` (renamed to MetricStat) in AWS's nested shape."""
    stat = query.get("MetricStat")
    if not stat:
        return query
    metric = {_METRIC_FIELDS[k]: v for k, v in stat.items() if k in _METRIC_FIELDS}
    if "Dimensions" in metric:
        metric["Dimensions"] = _dimensions(metric["Dimensions"])
    return {**query, "MetricStat": {"Metric": metric, "Period": stat["period"],
                                    "Stat": stat["stat"]}}


def create_metric_alarm(req: CreateRequest) -> Created:
    name = req.require("name")
    req.call()
    return Created(name, {"arn": req.target.arn("cloudwatch", f"alarm:{name}")})


KINDS = [
    ResourceKind(
        "aws:sns/topic:Topic",
        "sns",
        "CreateTopic",
        {"name": "Name", "displayName": "Attributes.DisplayName"},
        create_topic,
    ),
    ResourceKind(
        "aws:sns/topicSubscription:TopicSubscription",
        "sns",
        "Subscribe",
        {"topic": "TopicArn", "protocol": "Protocol", "endpoint": "Endpoint"},
        create_subscription,
    ),
    ResourceKind(
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "cloudwatch",
        "PutMetricAlarm",
        {
            "name": "AlarmName",
            "alarmDescription": "AlarmDescription",
            "alarmActions": "AlarmActions",
            "okActions": "OKActions",
            "comparisonOperator": "ComparisonOperator",
            "evaluationPeriods": "EvaluationPeriods",
            "datapointsToAlarm": "DatapointsToAlarm",
            "threshold": "Threshold",
            "treatMissingData": "TreatMissingData",
            "metricName": "MetricName",
            "namespace": "Namespace",
            "dimensions": To("Dimensions", convert=_dimensions),
            "period": "Period",
            "statistic": "Statistic",
            "extendedStatistic": "ExtendedStatistic",
            "metricQueries": To(
                "Metrics",
                fields={"id": "Id", "expression": "Expression", "label": "Label",
                        "returnData": "ReturnData", "metric": "MetricStat"},
                convert=lambda queries: [_metric_stat(q) for q in queries],
            ),
        },
        create_metric_alarm,
    ),
]
