"""The REST API, generated from the route table.

Every route becomes a method with AWS_PROXY integration to its own function;
every non-public method requires AWS_IAM (SigV4). Each resource with routes
gets a CORS preflight, and gateway errors carry CORS headers and a JSON body
so a browser can read why a call was refused.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

import access
from components import api_models, policies, redeploy
from components.config import Throttle

# What the browser app sends: SigV4 headers, the user's ID token, an add's Idempotency-Key.
CORS_ALLOW_HEADERS = (
    "Authorization,Content-Type,X-Amz-Date,X-Amz-Security-Token,X-Amz-Content-Sha256,X-Id-Token,"
    "Idempotency-Key"
)
# What a browser's script may read of an answer besides the CORS-safelisted headers: how
# long to wait before a retry.
CORS_EXPOSE_HEADERS = "Retry-After"
CORS_MAX_AGE_SECONDS = 600
# Gateway responses API Gateway answers when the client should retry: the stage throttle
# (429), and the function out of reach or too slow (504). Each says when, with CORS headers
# like every gateway response. Lambda's own failures (a crash, the function's timeout) are
# 502s under DEFAULT_5XX, which also covers configuration errors, so it names no delay.
RETRYABLE_GATEWAY_RESPONSES = ("THROTTLED", "INTEGRATION_FAILURE", "INTEGRATION_TIMEOUT")
GATEWAY_RETRY_AFTER_SECONDS = 1
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
GATEWAY_ERROR_TEMPLATE = '{"error": $context.error.messageString}'


@dataclass
class RouteTarget:
    """Where API Gateway sends a route: the function's invoke ARN and name."""

    invoke_arn: pulumi.Input[str]
    function_name: pulumi.Input[str]


@dataclass
class PetsApiArgs:
    api_name: str
    stage: str
    routes: Sequence[access.Route]
    targets: Mapping[str, RouteTarget]  # by route id
    # The site's origin (an Output when wired from the CloudFront distribution), or `*`.
    cors_allow_origin: pulumi.Input[str] = "*"
    log_retention_days: int = 30
    throttle: Throttle = field(default_factory=Throttle)
    # X-Ray tracing on the stage (Security Hub APIGateway.3).
    tracing: bool = True


@dataclass
class ApiInvoker:
    """A class role the API's resource policy admits, and the routes it may call."""

    role_arn: pulumi.Input[str]
    routes: Sequence[access.Route]


def _quoted(value: pulumi.Input[str]) -> pulumi.Input[str]:
    """API Gateway mapping values are literals only when single-quoted."""
    if isinstance(value, str):
        return f"'{value}'"
    return pulumi.Output.from_input(value).apply(lambda v: f"'{v}'")


def _cors_headers(origin: pulumi.Input[str], methods: str) -> dict[str, pulumi.Input[str]]:
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": methods,
        "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
        "Access-Control-Max-Age": str(CORS_MAX_AGE_SECONDS),
    }


def _verbs(routes: Sequence[access.Route]) -> str:
    """Access-Control-Allow-Methods for these routes (with the preflight itself)."""
    return ",".join(sorted({r.method for r in routes} | {"OPTIONS"}))


# A variable path part in logical names: by position, not by name. Only characters a Lambda
# permission's statement id may hold (Pulumi names the statement after the permission).
VARIABLE_PART = "var"


def path_slug(path: str) -> str:
    """`/pets/{petId}` -> `-pets-var`, for logical resource names.

    A variable part is named by its position, not its name: renaming a path parameter
    then keeps every logical name, so the engine updates the resource's path part, the
    method's request parameters and the rest in place. With the name in it, a rename
    would create the new resource before deleting the old one, and API Gateway refuses a
    second variable part under one parent (ConflictException).
    """
    return "".join(f"-{VARIABLE_PART}" if s.startswith("{") else f"-{s}"
                   for s in path.strip("/").split("/"))


def _check_names(paths: Sequence[str]) -> None:
    """Two paths with one slug would give two parts one logical name."""
    seen: dict[str, str] = {}
    for path in paths:
        first = seen.setdefault(path_slug(path), path)
        if first != path:
            raise ValueError(
                f"paths {first} and {path} would share the logical names of their parts "
                f"(`{path_slug(path)}`): a literal path part `{VARIABLE_PART}` names variable "
                "parts in logical names; rename the literal part")


def _named_before(path: str) -> str:
    """The slug logical names had before variable parts were positional: `-pets-petId`."""
    return path.replace("/", "-").replace("{", "").replace("}", "")


def part_name(stem: str, path: str, method: str | None = None) -> str:
    """`<stem>-delete-pets-var`: the logical name of a part of `path` (of one of its methods)."""
    return f"{stem}{'-' + method.lower() if method else ''}{path_slug(path)}"


def _aliases(stem: str, path: str, method: str | None = None) -> list[pulumi.Alias]:
    """The name this part has in stacks deployed before positional names: without an alias,
    the new name would be a replacement of each of them."""
    now = part_name(stem, path, method)
    before = now.removesuffix(path_slug(path)) + _named_before(path)
    return [] if before == now else [pulumi.Alias(name=before)]


def _resource_paths(routes: Sequence[access.Route]) -> list[str]:
    """Every path prefix the routes need, parents before children."""
    paths: set[str] = set()
    for route in routes:
        segments = route.path.strip("/").split("/")
        for depth in range(1, len(segments) + 1):
            paths.add("/" + "/".join(segments[:depth]))
    return sorted(paths, key=lambda p: (p.count("/"), p))


class PetsApi(pulumi.ComponentResource):
    rest_api: aws.apigateway.RestApi
    stage: aws.apigateway.Stage
    methods: dict[str, aws.apigateway.Method]  # by route id, plus `OPTIONS <path>`

    def __init__(self, name: str, args: PetsApiArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pets:index:PetsApi", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        missing = [r.id for r in args.routes if r.id not in args.targets]
        if missing:
            raise ValueError(f"{name}: no function for route(s) {missing}")
        access.check_path_variables(args.routes)
        _check_names(_resource_paths(args.routes))

        self.rest_api = aws.apigateway.RestApi(
            f"{name}-api",
            name=args.api_name,
            description="Pets API: AWS_IAM (SigV4) on every non-public method",
            endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(
                types="REGIONAL"
            ),
            opts=child,
        )
        api_id = self.rest_api.id

        # Everything the stage serves: the deployment comes after it and its trigger is
        # derived from it (redeploy.py).
        deploy_after: list[pulumi.CustomResource] = []
        resources: dict[str, pulumi.Output[str]] = {"/": self.rest_api.root_resource_id}
        for path in _resource_paths(args.routes):
            parent, _, part = path.rpartition("/")
            resource = aws.apigateway.Resource(
                part_name(f"{name}-resource", path),
                rest_api=api_id,
                parent_id=resources[parent or "/"],
                path_part=part,
                opts=self._child(f"{name}-resource", path),
            )
            resources[path] = resource.id
            deploy_after.append(resource)

        self.methods = {}
        validation = api_models.request_validation(name, self.rest_api, args.routes, child)
        deploy_after += validation.resources
        for route in args.routes:
            target = args.targets[route.id]
            path_params = {
                f"method.request.path.{s[1:-1]}": True
                for s in route.path.split("/") if s.startswith("{")
            }
            method = aws.apigateway.Method(
                part_name(f"{name}-method", route.path, route.method),
                rest_api=api_id,
                resource_id=resources[route.path],
                http_method=route.method,
                authorization="NONE" if route.public else "AWS_IAM",
                request_parameters=path_params or None,
                **validation.method_args(route),
                opts=self._child(f"{name}-method", route.path, route.method),
            )
            integration = aws.apigateway.Integration(
                part_name(f"{name}-integration", route.path, route.method),
                rest_api=api_id,
                resource_id=resources[route.path],
                http_method=method.http_method,
                type="AWS_PROXY",
                integration_http_method="POST",  # Lambda is always invoked with POST
                uri=target.invoke_arn,
                opts=self._child(f"{name}-integration", route.path, route.method),
            )
            aws.lambda_.Permission(
                part_name(f"{name}-permission", route.path, route.method),
                action="lambda:InvokeFunction",
                function=target.function_name,
                principal="apigateway.amazonaws.com",
                # Only this method of this stage may invoke the function.
                source_arn=self.rest_api.execution_arn.apply(
                    lambda arn, r=route: policies.route_arn(arn, args.stage, r)
                ),
                opts=self._child(f"{name}-permission", route.path, route.method),
            )
            self.methods[route.id] = method
            deploy_after += [method, integration]

        for path in sorted({r.path for r in args.routes}):
            verbs = _verbs([r for r in args.routes if r.path == path])
            deploy_after += self._preflight(name, args, resources[path], path, verbs)

        gateway_cors = {
            f"gatewayresponse.header.{header}": _quoted(value)
            for header, value in {
                **_cors_headers(args.cors_allow_origin, _verbs(args.routes)),
                "Access-Control-Expose-Headers": CORS_EXPOSE_HEADERS,
            }.items()
        }
        retry_after = {"gatewayresponse.header.Retry-After":
                       _quoted(str(GATEWAY_RETRY_AFTER_SECONDS))}
        deploy_after += [
            aws.apigateway.Response(
                f"{name}-gateway-{kind.lower().replace('_', '-')}",
                rest_api_id=api_id,
                response_type=kind,
                response_parameters={
                    **gateway_cors, **(retry_after if kind in RETRYABLE_GATEWAY_RESPONSES else {})},
                response_templates={"application/json": GATEWAY_ERROR_TEMPLATE},
                opts=child,
            )
            for kind in ("DEFAULT_4XX", "DEFAULT_5XX", *RETRYABLE_GATEWAY_RESPONSES)
        ]
        if validation.validator is not None:
            deploy_after.append(
                api_models.bad_body_response(name, self.rest_api, gateway_cors, child))

        self._name = name
        self._args = args
        self._deploy_after = deploy_after
        self.rest_api_id = api_id
        self.execution_arn = self.rest_api.execution_arn

    def publish(self, invokers: Mapping[str, ApiInvoker]) -> None:
        """The resource policy, then the deployment and stage: called once the class roles
        exist (their invoke policies need this API's execution ARN, so they are made
        between the constructor and this call)."""
        name, args = self._name, self._args
        child = pulumi.ResourceOptions(parent=self)
        api_id = self.rest_api.id
        paths = sorted({r.path for r in args.routes})
        policy = pulumi.Output.all(
            self.rest_api.execution_arn, *(i.role_arn for i in invokers.values())
        ).apply(lambda v: json.dumps(policies.api_resource_policy(
            v[0], args.stage,
            {n: (arn, i.routes) for (n, i), arn in zip(invokers.items(), v[1:], strict=True)},
            paths,
        ), sort_keys=True))
        self.resource_policy = aws.apigateway.RestApiPolicy(
            f"{name}-resource-policy",
            rest_api_id=api_id,
            policy=policy,
            opts=child,
        )
        # API Gateway applies a changed resource policy only with a new deployment, too.
        deploy_after = [*self._deploy_after, self.resource_policy]
        deployment = aws.apigateway.Deployment(
            f"{name}-deployment",
            rest_api=api_id,
            description="pets API",
            triggers=redeploy.deployment_triggers(deploy_after),
            opts=pulumi.ResourceOptions(parent=self, depends_on=deploy_after),
        )

        self.access_log_group = aws.cloudwatch.LogGroup(
            f"{name}-access-logs",
            name=f"/aws/apigateway/{args.api_name}/{args.stage}/access",
            retention_in_days=args.log_retention_days,
            opts=child,
        )
        # Access logs need API Gateway's CloudWatch role in the account settings of the region,
        # which the account baseline owns (account/): no app stack declares them.
        self.stage = aws.apigateway.Stage(
            f"{name}-stage",
            rest_api=api_id,
            deployment=deployment.id,
            stage_name=args.stage,
            xray_tracing_enabled=args.tracing,
            access_log_settings=aws.apigateway.StageAccessLogSettingsArgs(
                destination_arn=self.access_log_group.arn,
                format=ACCESS_LOG_FORMAT,
            ),
            opts=child,
        )
        aws.apigateway.MethodSettings(
            f"{name}-method-settings",
            rest_api=api_id,
            stage_name=self.stage.stage_name,
            method_path="*/*",
            settings=aws.apigateway.MethodSettingsSettingsArgs(
                throttling_rate_limit=args.throttle.rate_limit,
                throttling_burst_limit=args.throttle.burst_limit,
                metrics_enabled=True,
            ),
            opts=child,
        )

        self.invoke_url = self.stage.invoke_url
        self.register_outputs({
            "restApiId": api_id,
            "executionArn": self.execution_arn,
            "invokeUrl": self.invoke_url,
        })

    def _child(self, stem: str, path: str, method: str | None = None) -> pulumi.ResourceOptions:
        """A child's options, with the alias from its name before positional names."""
        return pulumi.ResourceOptions(parent=self, aliases=_aliases(stem, path, method))

    def _preflight(
        self,
        name: str,
        args: PetsApiArgs,
        resource_id: pulumi.Output[str],
        path: str,
        verbs: str,
    ) -> list[pulumi.Resource]:
        """OPTIONS answered by API Gateway itself: browsers send it unsigned."""
        headers = _cors_headers(args.cors_allow_origin, verbs)
        method = aws.apigateway.Method(
            part_name(f"{name}-method", path, "OPTIONS"),
            rest_api=self.rest_api.id,
            resource_id=resource_id,
            http_method="OPTIONS",
            authorization="NONE",
            opts=self._child(f"{name}-method", path, "OPTIONS"),
        )
        integration = aws.apigateway.Integration(
            part_name(f"{name}-integration", path, "OPTIONS"),
            rest_api=self.rest_api.id,
            resource_id=resource_id,
            http_method=method.http_method,
            type="MOCK",
            request_templates={"application/json": '{"statusCode": 200}'},
            opts=self._child(f"{name}-integration", path, "OPTIONS"),
        )
        response = aws.apigateway.MethodResponse(
            part_name(f"{name}-method-response", path, "OPTIONS"),
            rest_api=self.rest_api.id,
            resource_id=resource_id,
            http_method=method.http_method,
            status_code="200",
            response_parameters={f"method.response.header.{h}": True for h in headers},
            opts=self._child(f"{name}-method-response", path, "OPTIONS"),
        )
        integration_response = aws.apigateway.IntegrationResponse(
            part_name(f"{name}-integration-response", path, "OPTIONS"),
            rest_api=self.rest_api.id,
            resource_id=resource_id,
            http_method=method.http_method,
            status_code=response.status_code,
            response_parameters={
                f"method.response.header.{h}": _quoted(v) for h, v in headers.items()
            },
            opts=pulumi.ResourceOptions.merge(
                self._child(f"{name}-integration-response", path, "OPTIONS"),
                pulumi.ResourceOptions(depends_on=[integration])),
        )
        self.methods[f"OPTIONS {path}"] = method
        return [method, integration, response, integration_response]
