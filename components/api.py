"""The REST API's parts, generated from the route table.

Every route becomes a method with AWS_PROXY integration to its own function;
every non-public method requires AWS_IAM (SigV4). Each resource with routes
gets a CORS preflight, and gateway errors carry CORS headers and a JSON body
so a browser can read why a call was refused. What publishes these parts (the
resource policy, the deployment and the stage) is components/api_stage.py's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

import access
from components import api_models, policies
from components.api_paths import check_names, name_before, part_name, resource_paths
from components.component import Component, Outputs
from components.cors import CORS_EXPOSE_HEADERS, allowed_methods, cors_headers

# Gateway responses API Gateway answers when the client should retry: the stage throttle
# (429), and the function out of reach or too slow (504). Each says when, with CORS headers
# like every gateway response. Lambda's own failures (a crash, the function's timeout) are
# 502s under DEFAULT_5XX, which also covers configuration errors, so it names no delay.
RETRYABLE_GATEWAY_RESPONSES = ("THROTTLED", "INTEGRATION_FAILURE", "INTEGRATION_TIMEOUT")
GATEWAY_RETRY_AFTER_SECONDS = 1
GATEWAY_ERROR_TEMPLATE = '{"error": $context.error.messageString}'


@dataclass
class RouteTarget:
    """Where API Gateway sends a route: the function's invoke ARN and name."""

    invoke_arn: pulumi.Input[str]
    function_name: pulumi.Input[str]


@dataclass
class PetsApiArgs:
    api_name: str
    stage: str  # the stage's name: each function's permission names it
    routes: Sequence[access.Route]
    targets: Mapping[str, RouteTarget]  # by route id
    # The site's origin (an Output when wired from the CloudFront distribution), or `*`.
    cors_allow_origin: pulumi.Input[str] = "*"


def _quoted(value: pulumi.Input[str]) -> pulumi.Input[str]:
    """API Gateway mapping values are literals only when single-quoted."""
    if isinstance(value, str):
        return f"'{value}'"
    return pulumi.Output.from_input(value).apply(lambda v: f"'{v}'")


class PetsApi(Component[PetsApiArgs]):
    """The API as the routes make it, unpublished.

    Owns the RestApi; per path prefix a Resource; per route a Method, its AWS_PROXY
    Integration and the Lambda Permission for that method of the stage; per path the CORS
    preflight (OPTIONS Method, MOCK Integration, MethodResponse, IntegrationResponse); the
    gateway responses (Response: DEFAULT_4XX/5XX, the retryable ones, BAD_REQUEST_BODY), and
    the request bodies' Model and the body RequestValidator (components/api_models.py).
    `parts` lists everything the stage serves, for the deployment (components/api_stage.py).
    """

    rest_api: aws.apigateway.RestApi
    methods: dict[str, aws.apigateway.Method]  # by route id, plus `OPTIONS <path>`
    parts: list[pulumi.CustomResource]
    rest_api_id: pulumi.Output[str]
    execution_arn: pulumi.Output[str]
    api_name: str
    stage_name: str  # the stage its functions' permissions name (ApiStage creates it)
    routes: tuple[access.Route, ...]

    def declare(self, name: str, args: PetsApiArgs) -> Outputs:
        missing = [r.id for r in args.routes if r.id not in args.targets]
        if missing:
            raise ValueError(f"{name}: no function for route(s) {missing}")
        access.check_path_variables(args.routes)
        check_names(resource_paths(args.routes))

        self.rest_api = aws.apigateway.RestApi(
            f"{name}-api",
            name=args.api_name,
            description="Pets API: AWS_IAM (SigV4) on every non-public method",
            endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(
                types="REGIONAL"
            ),
            opts=self.child(),
        )
        self.rest_api_id = self.rest_api.id
        self.execution_arn = self.rest_api.execution_arn
        self.api_name, self.stage_name, self.routes = args.api_name, args.stage, tuple(args.routes)
        self.methods = {}
        self.parts = []

        resources: dict[str, pulumi.Input[str]] = {"/": self.rest_api.root_resource_id}
        for path in resource_paths(args.routes):
            parent, _, part = path.rpartition("/")
            resources[path] = self._part(
                aws.apigateway.Resource, f"{name}-resource", path, None,
                rest_api=self.rest_api_id, parent_id=resources[parent or "/"], path_part=part,
            ).id

        validation = api_models.request_validation(name, self.rest_api, args.routes, self.child())
        self.parts += validation.resources
        for route in args.routes:
            self._route(name, args, route, resources[route.path], validation)
        for path in sorted({r.path for r in args.routes}):
            methods = allowed_methods([r for r in args.routes if r.path == path])
            self._preflight(name, resources[path], path,
                            cors_headers(args.cors_allow_origin, methods))
        self._gateway_responses(name, args, validation)

        return {"restApiId": self.rest_api_id, "executionArn": self.execution_arn}

    def _part(self, kind: type[pulumi.CustomResource], stem: str, path: str,
              method: str | None, *, depends_on: Sequence[pulumi.Resource] = (),
              served: bool = True, **inputs: Any) -> Any:
        """One part of `path` (of one of its methods), named by position, with the alias of
        the name it had before positional names; `served` (by the stage): in `parts`."""
        before = name_before(stem, path, method)
        part = kind(part_name(stem, path, method), **inputs, opts=self.child(
            depends_on=list(depends_on), aliases=[pulumi.Alias(name=before)] if before else []))
        if served:
            self.parts.append(part)
        return part

    def _route(self, name: str, args: PetsApiArgs, route: access.Route,
               resource_id: pulumi.Input[str], validation: api_models.RequestValidation) -> None:
        """The route's method, its integration with the function, and the permission that
        lets only this method of this stage invoke the function."""
        target = args.targets[route.id]
        path_params = {f"method.request.path.{s[1:-1]}": True
                       for s in route.path.split("/") if s.startswith("{")}
        method = self._part(
            aws.apigateway.Method, f"{name}-method", route.path, route.method,
            rest_api=self.rest_api_id, resource_id=resource_id, http_method=route.method,
            authorization="NONE" if route.public else "AWS_IAM",
            request_parameters=path_params or None, **validation.method_args(route))
        self._part(
            aws.apigateway.Integration, f"{name}-integration", route.path, route.method,
            rest_api=self.rest_api_id, resource_id=resource_id, http_method=method.http_method,
            type="AWS_PROXY",
            integration_http_method="POST",  # Lambda is always invoked with POST
            uri=target.invoke_arn)
        self._part(
            aws.lambda_.Permission, f"{name}-permission", route.path, route.method, served=False,
            action="lambda:InvokeFunction", function=target.function_name,
            principal="apigateway.amazonaws.com",
            source_arn=self.execution_arn.apply(
                lambda arn: policies.route_arn(arn, args.stage, route)))
        self.methods[route.id] = method

    def _preflight(self, name: str, resource_id: pulumi.Input[str], path: str,
                   headers: Mapping[str, pulumi.Input[str]]) -> None:
        """OPTIONS answered by API Gateway itself: browsers send it unsigned."""
        where = {"rest_api": self.rest_api_id, "resource_id": resource_id}
        method = self._part(aws.apigateway.Method, f"{name}-method", path, "OPTIONS",
                            **where, http_method="OPTIONS", authorization="NONE")
        integration = self._part(
            aws.apigateway.Integration, f"{name}-integration", path, "OPTIONS",
            **where, http_method=method.http_method, type="MOCK",
            request_templates={"application/json": '{"statusCode": 200}'})
        response = self._part(
            aws.apigateway.MethodResponse, f"{name}-method-response", path, "OPTIONS",
            **where, http_method=method.http_method, status_code="200",
            response_parameters={f"method.response.header.{h}": True for h in headers})
        self._part(
            aws.apigateway.IntegrationResponse, f"{name}-integration-response", path, "OPTIONS",
            **where, http_method=method.http_method, status_code=response.status_code,
            response_parameters={f"method.response.header.{h}": _quoted(v)
                                 for h, v in headers.items()},
            depends_on=[integration])
        self.methods[f"OPTIONS {path}"] = method

    def _gateway_responses(self, name: str, args: PetsApiArgs,
                           validation: api_models.RequestValidation) -> None:
        """API Gateway's own refusals as the API's JSON errors, with CORS headers (and
        Retry-After where a retry may succeed), so a browser can read them."""
        gateway_cors = {
            f"gatewayresponse.header.{header}": _quoted(value)
            for header, value in {
                **cors_headers(args.cors_allow_origin, allowed_methods(args.routes)),
                "Access-Control-Expose-Headers": CORS_EXPOSE_HEADERS,
            }.items()
        }
        retry_after = {"gatewayresponse.header.Retry-After":
                       _quoted(str(GATEWAY_RETRY_AFTER_SECONDS))}
        self.parts += [
            aws.apigateway.Response(
                f"{name}-gateway-{kind.lower().replace('_', '-')}",
                rest_api_id=self.rest_api_id,
                response_type=kind,
                response_parameters={
                    **gateway_cors, **(retry_after if kind in RETRYABLE_GATEWAY_RESPONSES else {})},
                response_templates={"application/json": GATEWAY_ERROR_TEMPLATE},
                opts=self.child(),
            )
            for kind in ("DEFAULT_4XX", "DEFAULT_5XX", *RETRYABLE_GATEWAY_RESPONSES)
        ]
        if validation.validator is not None:
            self.parts.append(
                api_models.bad_body_response(name, self.rest_api, gateway_cors, self.child()))
