"""API Gateway: who may call a method without signing, and what the stage logs."""

from __future__ import annotations

from typing import Any

from policy import model
from policy.props import is_unknown, require_known
from policy.stack_graph import INTEGRATION, METHOD, Stack

REST_API = "aws:apigateway/restApi:RestApi"
REST_API_PUT = "aws:apigateway/restApiPut:RestApiPut"
STAGE = "aws:apigateway/stage:Stage"
METHOD_TYPES = frozenset({METHOD, REST_API, REST_API_PUT})


def _public_routes_text() -> str:
    routes = sorted(f"{m} {p}" for m, p in model.public_routes())
    return ", ".join(routes) if routes else "none (the model declares no public route)"


def method_authorization(resource_type: str, props: dict[str, Any]) -> list[str]:
    """Resource rule: a method is AWS_IAM unless it is a preflight or may be a public route.

    Only the method's own inputs are known here, not its path, so NONE passes
    for OPTIONS and for an http method some public route uses; the stack rule
    `public_method_paths` then checks the path. An OpenAPI body would declare
    methods this pack never sees, so it is refused.
    """
    if resource_type in (REST_API, REST_API_PUT):
        body = props.get("body")
        if body is not None and body != "":
            return ["the REST API declares methods in an OpenAPI `body`, which this pack cannot "
                    "check for AWS_IAM: declare each method as an aws:apigateway/method:Method "
                    "resource (as components/api.py does) and remove `body`"]
        return []
    http_method = require_known(props.get("httpMethod"), "httpMethod")
    authorization = require_known(props.get("authorization"), "authorization")
    if authorization == "AWS_IAM":
        return []
    if authorization == "NONE" and (
        http_method == "OPTIONS" or http_method in model.public_methods()
    ):
        return []
    return [f"API method {http_method} uses authorization {authorization!r}: set "
            "authorization='AWS_IAM' (SigV4). Only OPTIONS preflights and routes declared "
            f"public=True in access.ROUTES may use 'NONE'; public routes: {_public_routes_text()}"]


def public_method_paths(stack: Stack) -> list[tuple[str, str]]:
    """Stack rule: every method without AWS_IAM is a preflight or a public route of the model.

    The path comes from the method's resourceId through each API resource's
    parentId up to the RestApi (property dependencies, so it works in preview).
    A method whose path cannot be traced is refused unless it uses AWS_IAM.
    An unauthenticated OPTIONS must be answered by API Gateway itself (MOCK),
    or it would be an unsigned door to a backend.
    """
    violations: list[tuple[str, str]] = []
    for method in stack.of_type(METHOD):
        props = stack.props(method)
        authorization = props.get("authorization")
        http_method = props.get("httpMethod")
        if authorization == "AWS_IAM":
            continue
        if is_unknown(authorization) or is_unknown(http_method):
            violations.append((f"API method {method.name}: authorization and httpMethod must be "
                               "literal values so the pack can check them", method.urn))
            continue
        if authorization == "NONE" and http_method == "OPTIONS":
            continue  # its integration is checked below
        path = stack.path_of(stack.api_resource_of(method))
        where = f"{http_method} {path or '<path unknown>'}"
        if authorization == "NONE" and (http_method, path) in model.public_routes():
            continue
        if authorization == "NONE" and path is None:
            reason = ("its path cannot be traced through resourceId/parentId to the RestApi, so "
                      "the pack cannot match it to a public route")
        else:
            reason = f"access.ROUTES declares no public route {where}"
        violations.append((
            f"API method {method.name} ({where}) uses authorization {authorization!r} but "
            f"{reason}: set authorization='AWS_IAM', or declare the route public=True in "
            f"access.py (public routes: {_public_routes_text()})", method.urn))
    violations += _preflight_integrations(stack)
    return violations


def _preflight_integrations(stack: Stack) -> list[tuple[str, str]]:
    """Every OPTIONS integration is MOCK unless its method requires AWS_IAM.

    Starts from the integrations, so one whose method cannot be found counts
    as unauthenticated rather than being skipped.
    """
    violations: list[tuple[str, str]] = []
    methods = stack.of_type(METHOD)
    for integration in stack.of_type(INTEGRATION):
        props = stack.props(integration)
        if props.get("type") == "MOCK":
            continue
        owners = [m for m in (integration.property_dependencies or {}).get("httpMethod", [])
                  if m.resource_type == METHOD]
        http_method = props.get("httpMethod")
        if is_unknown(http_method):
            if not owners:
                continue  # no way to tell; its method is checked on its own above
            http_method = stack.props(owners[0]).get("httpMethod")
        if http_method != "OPTIONS":
            continue
        target = stack.api_resource_of(integration)
        if not owners and target is not None:
            owners = [m for m in methods if stack.props(m).get("httpMethod") == "OPTIONS"
                      and stack.api_resource_of(m) is target]
        if owners and all(stack.props(m).get("authorization") == "AWS_IAM" for m in owners):
            continue
        path = stack.path_of(target)
        violations.append((
            f"OPTIONS {path or '<path unknown>'} is unauthenticated but its integration "
            f"{integration.name} has type {props.get('type')!r}: a CORS preflight must be a MOCK "
            "integration answered by API Gateway; route real work through an AWS_IAM method",
            integration.urn))
    return violations


def stage_access_logging(resource_type: str, props: dict[str, Any]) -> list[str]:
    """Resource rule: the stage writes access logs (who called what, with which role).

    A destination still unknown in preview (the log group's ARN) counts as set.
    """
    settings = props.get("accessLogSettings")
    if is_unknown(settings):
        return []
    settings = settings if isinstance(settings, dict) else {}
    missing = [key for key in ("destinationArn", "format")
               if not is_unknown(settings.get(key)) and not settings.get(key)]
    if not missing:
        return []
    return [f"API stage {props.get('stageName', '')!r} has no access logging "
            f"({', '.join(missing)} missing): set access_log_settings with destination_arn "
            "(a CloudWatch log group ARN) and format (e.g. components/api_stage.py "
            "ACCESS_LOG_FORMAT)"]
