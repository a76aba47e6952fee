"""aws:sns/topic:Topic, aws:sns/topicSubscription:TopicSubscription,
aws:cloudwatch/metricAlarm:MetricAlarm."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from devstack.applier.kinds import Created, CreateRequest, ResourceKind, drop_none, tag_list

# Topic inputs that are SNS topic attributes (provider name -> attribute name).
_TOPIC_ATTRIBUTES = {
    "displayName": "DisplayName",
    "kmsMasterKeyId": "KmsMasterKeyId",
    "policy": "Policy",
    "deliveryPolicy": "DeliveryPolicy",
    "fifoTopic": "FifoTopic",
    "contentBasedDeduplication": "ContentBasedDeduplication",
    "signatureVersion": "SignatureVersion",
    "tracingConfig": "TracingConfig",
}


def create_topic(req: CreateRequest) -> Created:
    sns = req.client("sns")
    name = req.physical_name(max_length=256)
    attributes = {
        aws_key: str(req.get(key)).lower() if isinstance(req.get(key), bool) else str(req.get(key))
        for key, aws_key in _TOPIC_ATTRIBUTES.items()
        if req.get(key) not in (None, "", False)
    }
    arn = sns.create_topic(
        **drop_none({"Name": name, "Attributes": attributes or None,
                     "Tags": tag_list(req.get("tags"))})
    )["TopicArn"]
    return Created(arn, {"name": name, "arn": arn, "owner": req.target.account_id,
                         "tagsAll": req.get("tags", {})})


def create_subscription(req: CreateRequest) -> Created:
    sns = req.client("sns")
    answer = sns.subscribe(
        TopicArn=req.require("topic"),
        Protocol=req.require("protocol"),
        Endpoint=req.require("endpoint"),
        ReturnSubscriptionArn=True,
    )
    arn = answer["SubscriptionArn"]
    return Created(arn, {"arn": arn, "pendingConfirmation": arn == "pending confirmation"})


def _dimensions(value: Mapping[str, Any] | None) -> list[dict[str, str]] | None:
    return [{"Name": k, "Value": v} for k, v in sorted(value.items())] if value else None


def _query(query: Mapping[str, Any]) -> dict[str, Any]:
    metric = query.get("metric")
    return drop_none({
        "Id": query["id"],
        "Expression": query.get("expression"),
        "Label": query.get("label"),
        "ReturnData": query.get("returnData"),
        "Period": query.get("period"),
        "AccountId": query.get("accountId"),
        "MetricStat": drop_none({
            "Metric": drop_none({
                "Namespace": metric.get("namespace"),
                "MetricName": metric["metricName"],
                "Dimensions": _dimensions(metric.get("dimensions")),
            }),
            "Period": metric["period"],
            "Stat": metric["stat"],
            "Unit": metric.get("unit"),
        }) if metric else None,
    })


def create_metric_alarm(req: CreateRequest) -> Created:
    cloudwatch = req.client("cloudwatch")
    name = req.physical_name(max_length=255)
    queries = req.get("metricQueries")
    cloudwatch.put_metric_alarm(**drop_none({
        "AlarmName": name,
        "AlarmDescription": req.get("alarmDescription"),
        "ActionsEnabled": req.get("actionsEnabled"),
        "AlarmActions": req.get("alarmActions") or None,
        "OKActions": req.get("okActions") or None,
        "InsufficientDataActions": req.get("insufficientDataActions") or None,
        "ComparisonOperator": req.require("comparisonOperator"),
        "EvaluationPeriods": req.require("evaluationPeriods"),
        "DatapointsToAlarm": req.get("datapointsToAlarm"),
        "Threshold": req.get("threshold"),
        "TreatMissingData": req.get("treatMissingData"),
        "EvaluateLowSampleCountPercentile": req.get("evaluateLowSampleCountPercentile"),
        "MetricName": req.get("metricName"),
        "Namespace": req.get("namespace"),
        "Dimensions": _dimensions(req.get("dimensions")),
        "Period": req.get("period"),
        "Statistic": req.get("statistic"),
        "ExtendedStatistic": req.get("extendedStatistic"),
        "Unit": req.get("unit"),
        "Metrics": [_query(q) for q in queries] if queries else None,
        "Tags": tag_list(req.get("tags")),
    }))
    return Created(name, {"arn": req.target.arn("cloudwatch", f"alarm:{name}"),
                          "tagsAll": req.get("tags", {})})


KINDS = [
    ResourceKind(
        resource_type="aws:sns/topic:Topic",
        create=create_topic,
        inputs=frozenset({"name", "namePrefix", "tags", *_TOPIC_ATTRIBUTES}),
        note="stores the topic and its attributes; MiniStack delivers to e-mail subscribers "
        "nowhere",
    ),
    ResourceKind(
        resource_type="aws:sns/topicSubscription:TopicSubscription",
        create=create_subscription,
        inputs=frozenset({"topic", "protocol", "endpoint"}),
        ignored=frozenset({"confirmationTimeoutInMinutes", "endpointAutoConfirms"}),
    ),
    ResourceKind(
        resource_type="aws:cloudwatch/metricAlarm:MetricAlarm",
        create=create_metric_alarm,
        inputs=frozenset({
            "name", "alarmDescription", "actionsEnabled", "alarmActions", "okActions",
            "insufficientDataActions", "comparisonOperator", "evaluationPeriods",
            "datapointsToAlarm", "threshold", "treatMissingData",
            "evaluateLowSampleCountPercentile", "metricName", "namespace", "dimensions",
            "period", "statistic", "extendedStatistic", "unit", "metricQueries", "tags",
        }),
        note="MiniStack stores the alarm and evaluates it against metrics put with "
        "PutMetricData; the services' own metrics (AWS/ApiGateway, AWS/Lambda, AWS/DynamoDB) "
        "are not all emitted, so an alarm there never fires by itself",
    ),
]
