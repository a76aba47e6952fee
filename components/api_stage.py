"""The API as callers reach it: its resource policy, the deployment (a snapshot of the API's
parts) and the stage that serves it, with its throttle and access logs.

A component apart from the API's parts (components/api.py) because the resource policy
names the class roles, whose invoke policies need the API's execution ARN: the program
builds the API's parts, then the roles, then this.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

import access
from components import policies, redeploy
from components.api import PetsApi
from components.component import Component, Outputs
from components.config import Throttle

# One JSON line per request; caller and userArn say which role made the call, the two
# request ids find it in API Gateway's execution logs and X-Ray, error.responseType says
# which gateway response (ACCESS_DENIED, THROTTLED, ...) answered it.
ACCESS_LOG_FORMAT = json.dumps({
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "requestTime": "$context.requestTime",
    "sourceIp": "$context.identity.sourceIp",
    "caller": "$context.identity.caller",
    "userArn": "$context.identity.userArn",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "status": "$context.status",
    "error": "$context.error.message",
    "errorResponseType": "$context.error.responseType",
    "integrationLatency": "$context.integrationLatency",
    "xrayTraceId": "$context.xrayTraceId",
})


@dataclass
class ApiInvoker:
    """A class role the API's resource policy admits, and the routes it may call."""

    role_arn: pulumi.Input[str]
    routes: Sequence[access.Route]


@dataclass
class ApiStageArgs:
    # What is published: its name, stage name and routes, and everything the stage serves
    # (PetsApi.parts), which the deployment comes after and its trigger is derived from
    # (components/redeploy.py).
    api: PetsApi
    invokers: Mapping[str, ApiInvoker]  # by class name
    log_retention_days: int = 30
    throttle: Throttle = field(default_factory=Throttle)
    # X-Ray tracing on the stage (Security Hub APIGateway.3).
    tracing: bool = True


class ApiStage(Component[ApiStageArgs]):
    """Owns the RestApiPolicy (each class role, its routes; everyone else denied), the
    Deployment, the stage's access LogGroup, the Stage (X-Ray, access logs) and its
    MethodSettings (throttle, metrics)."""

    resource_policy: aws.apigateway.RestApiPolicy
    deployment: aws.apigateway.Deployment
    access_log_group: aws.cloudwatch.LogGroup
    stage: aws.apigateway.Stage
    invoke_url: pulumi.Output[str]

    def declare(self, name: str, args: ApiStageArgs) -> Outputs:
        api = args.api
        # Stacks deployed before the stage had a component of its own hold these resources
        # under the API's: the alias keeps them there instead of replacing them.
        aliases = [pulumi.Alias(parent=api)]
        moved = self.child(aliases=aliases)
        paths = sorted({r.path for r in api.routes})
        invokers = dict(args.invokers)
        policy = pulumi.Output.all(
            api.execution_arn, *(i.role_arn for i in invokers.values())
        ).apply(lambda v: json.dumps(policies.api_resource_policy(
            v[0], api.stage_name,
            {n: (arn, i.routes) for (n, i), arn in zip(invokers.items(), v[1:], strict=True)},
            paths,
        ), sort_keys=True))
        self.resource_policy = aws.apigateway.RestApiPolicy(
            f"{name}-resource-policy",
            rest_api_id=api.rest_api_id,
            policy=policy,
            opts=moved,
        )
        # API Gateway applies a changed resource policy only with a new deployment, too.
        deployed = [*api.parts, self.resource_policy]
        self.deployment = aws.apigateway.Deployment(
            f"{name}-deployment",
            rest_api=api.rest_api_id,
            description="pets API",
            triggers=redeploy.deployment_triggers(deployed),
            opts=self.child(aliases=aliases, depends_on=deployed),
        )
        self.access_log_group = aws.cloudwatch.LogGroup(
            f"{name}-access-logs",
            name=f"/aws/apigateway/{api.api_name}/{api.stage_name}/access",
            retention_in_days=args.log_retention_days,
            opts=moved,
        )
        # Access logs need API Gateway's CloudWatch role in the account settings of the region,
        # which the account baseline owns (account/): no app stack declares them.
        self.stage = aws.apigateway.Stage(
            f"{name}-stage",
            rest_api=api.rest_api_id,
            deployment=self.deployment.id,
            stage_name=api.stage_name,
            xray_tracing_enabled=args.tracing,
            access_log_settings=aws.apigateway.StageAccessLogSettingsArgs(
                destination_arn=self.access_log_group.arn,
                format=ACCESS_LOG_FORMAT,
            ),
            opts=moved,
        )
        aws.apigateway.MethodSettings(
            f"{name}-method-settings",
            rest_api=api.rest_api_id,
            stage_name=self.stage.stage_name,
            method_path="*/*",
            settings=aws.apigateway.MethodSettingsSettingsArgs(
                throttling_rate_limit=args.throttle.rate_limit,
                throttling_burst_limit=args.throttle.burst_limit,
                metrics_enabled=True,
            ),
            opts=moved,
        )
        self.invoke_url = self.stage.invoke_url
        return {"invokeUrl": self.invoke_url, "stageArn": self.stage.arn}
