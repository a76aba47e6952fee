"""CloudWatch alarms on what users would notice first, and the SNS topic they notify.

Every alarm's name says what is wrong and where (`<prefix>-api-5xx-rate`,
`<function>-errors`); its description says what to look at first. Thresholds are
constants here: they describe the shop's traffic, not a stack's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

import access
from components.component import Component, Outputs
from components.naming import function_name

PERIOD_SECONDS = 300
# A share of requests (API Gateway's 5XXError/4XXError averaged over Count is that share).
API_5XX_RATE = 0.05
API_4XX_RATE = 0.25
API_4XX_PERIODS = 2  # a spike that lasts, not one bad client's burst
# The functions time out after 10 s; p99 above 3 s means users wait.
API_P99_LATENCY_MS = 3000
API_LATENCY_PERIODS = 3


@dataclass
class AlarmTarget:
    """A function to watch: its route, its name and log group (for the description)."""

    route: access.Route
    function_name: pulumi.Input[str]


@dataclass
class StackAlarmsArgs:
    name_prefix: str
    api_name: str  # the RestApi's name: API Gateway metrics' ApiName dimension
    stage: str
    functions: Mapping[str, AlarmTarget]  # by route id
    table_name: pulumi.Input[str]
    idempotency_table_name: pulumi.Input[str]
    alarm_email: str | None = None


def table_operations(actions: Iterable[str]) -> list[str]:
    """DynamoDB operations of these actions (`dynamodb:Scan` -> `Scan`), sorted.

    ThrottledRequests is reported per TableName and Operation, so a table's alarm sums the
    operations the model gives the functions on it.
    """
    return sorted({a.split(":", 1)[1] for a in actions})


class StackAlarms(Component[StackAlarmsArgs]):
    """Owns the alarms' SNS Topic, its e-mail TopicSubscription (with alarm_email), and each
    CloudWatch MetricAlarm: the API's 5XX rate, 4XX spike and p99 latency, each function's
    errors and throttles, each table's throttled requests."""

    topic: aws.sns.Topic
    alarms: dict[str, aws.cloudwatch.MetricAlarm]  # by alarm name

    def declare(self, name: str, args: StackAlarmsArgs) -> Outputs:
        prefix = args.name_prefix
        # No KMS key: CloudWatch cannot publish to a topic encrypted with the AWS managed
        # alias/aws/sns key (it would need a customer managed key granting it kms:Decrypt).
        self.topic = aws.sns.Topic(
            f"{name}-topic",
            name=f"{prefix}-alarms",
            display_name=f"{prefix} alarms",
            opts=self.child(),
        )
        if args.alarm_email:
            aws.sns.TopicSubscription(
                f"{name}-email",
                topic=self.topic.arn,
                protocol="email",
                endpoint=args.alarm_email,
                opts=self.child(),
            )
        self.alarms = {}
        api_dims = {"ApiName": args.api_name, "Stage": args.stage}
        where = f"API {args.api_name} stage {args.stage}"
        access_log = f"/aws/apigateway/{args.api_name}/{args.stage}/access"
        self._alarm(
            f"{prefix}-api-5xx-rate", args,
            description=(
                f"More than {API_5XX_RATE:.0%} of requests to {where} failed with 5XX for "
                f"{PERIOD_SECONDS // 60} minutes. Look at: which function's -errors alarm is "
                "also firing, its log group /aws/lambda/<function>, the access log "
                f"{access_log} (status, errorResponseType), and the stage's X-Ray traces."),
            metric_name="5XXError", namespace="AWS/ApiGateway", dimensions=api_dims,
            statistic="Average", threshold=API_5XX_RATE,
        )
        self._alarm(
            f"{prefix}-api-4xx-spike", args,
            description=(
                f"More than {API_4XX_RATE:.0%} of requests to {where} were refused with 4XX "
                f"for {API_4XX_PERIODS * PERIOD_SECONDS // 60} minutes. Look at: the access "
                f"log {access_log}: errorResponseType (ACCESS_DENIED: a role or the "
                "resource policy; THROTTLED: the stage throttle; WAF_FILTERED: the web "
                "ACL), userArn and sourceIp: one caller, a broken site release, or an attack."),
            metric_name="4XXError", namespace="AWS/ApiGateway", dimensions=api_dims,
            statistic="Average", threshold=API_4XX_RATE, periods=API_4XX_PERIODS,
        )
        self._alarm(
            f"{prefix}-api-p99-latency", args,
            description=(
                f"The slowest 1% of requests to {where} took over {API_P99_LATENCY_MS} ms for "
                f"{API_LATENCY_PERIODS * PERIOD_SECONDS // 60} minutes. Look at: the access "
                "log's integrationLatency (the function) against the total, the functions' "
                "Duration and Init Duration in X-Ray, and the table's throttling alarm."),
            metric_name="Latency", namespace="AWS/ApiGateway", dimensions=api_dims,
            extended_statistic="p99", threshold=API_P99_LATENCY_MS,
            periods=API_LATENCY_PERIODS,
        )
        for target in args.functions.values():
            function = target.function_name
            route = f"{target.route.method} {target.route.path}"
            stem = function_name(prefix, target.route)
            self._alarm(
                f"{stem}-errors", args,
                description=(
                    f"The function behind {route} raised or timed out (Lambda Errors > 0 in "
                    f"{PERIOD_SECONDS // 60} minutes). Look at: its log group "
                    f"/aws/lambda/{stem} (the Powertools logger's exception lines) and its "
                    "X-Ray traces."),
                metric_name="Errors", namespace="AWS/Lambda",
                dimensions={"FunctionName": function}, statistic="Sum", threshold=0,
            )
            self._alarm(
                f"{stem}-throttles", args,
                description=(
                    f"Lambda refused calls to the function behind {route}: its reserved "
                    "concurrency (pets:reservedConcurrency) or the account's limit is "
                    "reached. Look at: its ConcurrentExecutions, whether one caller is "
                    "bursting (access log sourceIp, userArn), then raise its reservation."),
                metric_name="Throttles", namespace="AWS/Lambda",
                dimensions={"FunctionName": function}, statistic="Sum", threshold=0,
            )
        routes = [t.route for t in args.functions.values()]
        self._table_alarm(
            f"{prefix}-table-throttled-requests", args, args.table_name,
            table_operations(a for r in routes for a in r.table_actions),
            "DynamoDB throttled requests to the pets table",
            "the functions' Errors alarms and their 503 answers (the SDK's retries gave up)")
        self._table_alarm(
            f"{prefix}-idempotency-throttled-requests", args, args.idempotency_table_name,
            table_operations(a for r in routes for a in r.idempotency_actions),
            "DynamoDB throttled requests to the idempotency table (Idempotency-Key records)",
            "the add function's 503 answers: adds with a key wait for this table")
        return {
            "topicArn": self.topic.arn,
            "alarmNames": sorted(self.alarms),
        }

    def _table_alarm(self, alarm_name: str, args: StackAlarmsArgs,
                     table_name: pulumi.Input[str], operations: list[str], what: str,
                     effect: str) -> None:
        self._alarm(
            alarm_name, args,
            description=(
                f"{what} ({', '.join(operations)}). The table is on-demand, so this is a "
                "sudden burst beyond twice its previous peak or a hot key. Look at: "
                f"ThrottledRequests per Operation, {effect}, and the table's account quotas."),
            queries=[
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id=f"m{index}",
                    metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                        metric_name="ThrottledRequests",
                        namespace="AWS/DynamoDB",
                        dimensions={"TableName": table_name, "Operation": operation},
                        period=PERIOD_SECONDS,
                        stat="Sum",
                    ),
                    return_data=False,
                )
                for index, operation in enumerate(operations)
            ] + [aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id="throttled",
                expression=" + ".join(f"FILL(m{i}, 0)" for i in range(len(operations))),
                label="ThrottledRequests, all operations",
                return_data=True,
            )],
            threshold=0,
        )

    def _alarm(
        self,
        alarm_name: str,
        args: StackAlarmsArgs,
        *,
        description: str,
        threshold: float,
        metric_name: str | None = None,
        namespace: str | None = None,
        dimensions: Mapping[str, pulumi.Input[str]] | None = None,
        statistic: str | None = None,
        extended_statistic: str | None = None,
        periods: int = 1,
        queries: list[aws.cloudwatch.MetricAlarmMetricQueryArgs] | None = None,
    ) -> None:
        metric = queries is None
        self.alarms[alarm_name] = aws.cloudwatch.MetricAlarm(
            alarm_name,
            name=alarm_name,
            alarm_description=description,
            comparison_operator="GreaterThanThreshold",
            threshold=threshold,
            evaluation_periods=periods,
            datapoints_to_alarm=periods,
            metric_name=metric_name,
            namespace=namespace,
            dimensions=dict(dimensions) if dimensions else None,
            statistic=statistic,
            extended_statistic=extended_statistic,
            period=PERIOD_SECONDS if metric else None,
            metric_queries=queries,
            # No traffic is not an outage.
            treat_missing_data="notBreaching",
            alarm_actions=[self.topic.arn],
            ok_actions=[self.topic.arn],
            opts=self.child(),
        )
