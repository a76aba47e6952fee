"""API Gateway v1 (REST): the API and its resource policy, resources, methods, integrations,
responses, request models and validators, deployments, stages, method settings and the
account's CloudWatch role."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from devstack.apply.kinds import UPDATES_ONLY, Created, CreateRequest, ResourceKind, To

# UpdateStage patch paths of the MethodSettings settings the program declares.
_METHOD_SETTING_PATHS = {
    "metricsEnabled": "metrics/enabled",
    "throttlingBurstLimit": "throttling/burstLimit",
    "throttlingRateLimit": "throttling/rateLimit",
}
# The inputs naming a method, shared by the method and everything attached to it.
_METHOD_INPUTS = {"restApi": "restApiId", "resourceId": "resourceId", "httpMethod": "httpMethod"}


def _replace(path: str, value: Any) -> dict[str, str]:
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return {"op": "replace", "path": path, "value": text}


def _endpoint_types(config: dict[str, Any]) -> dict[str, Any]:
    # pulumi-aws 7 takes one type as a string; the API takes a list.
    types = config.get("types")
    return {**config, "types": [types] if isinstance(types, str) else types}


def create_rest_api(req: CreateRequest) -> Created:
    api = req.call()
    api_id = api["id"]
    return Created(
        api_id,
        {
            "rootResourceId": api["rootResourceId"],
            "executionArn": req.target.arn("execute-api", api_id),
            "arn": req.target.arn("apigateway", f"/restapis/{api_id}", account=False),
        },
    )


def create_rest_api_policy(req: CreateRequest) -> Created:
    req.call()
    return Created(req.require("restApiId"))  # the provider's id: the API's


def _method_part(prefix: str, *extra: str) -> Callable[[CreateRequest], Created]:
    """A method or what hangs off one: one Put call; the provider's id names the method."""

    def create(req: CreateRequest) -> Created:
        req.call()
        keys = ("restApi", "resourceId", "httpMethod", *extra)
        return Created("-".join([prefix, *(req.require(key) for key in keys)]))

    return create


def create_gateway_response(req: CreateRequest) -> Created:
    req.call()
    return Created(f"aggr-{req.require('restApiId')}-{req.require('responseType')}")


def create_with_id(req: CreateRequest) -> Created:
    """One create call whose answer's `id` is the provider's id."""
    return Created(req.call()["id"])


def create_deployment(req: CreateRequest) -> Created:
    _check_deployable(req, req.require("restApi"))
    return create_with_id(req)


def _check_deployable(req: CreateRequest, api_id: str) -> None:
    """The checks AWS makes before a deployment and MiniStack does not.

    AWS refuses to deploy an API without methods, or with a method that has no
    integration (BadRequestException). Locally the same program would deploy and only
    fail on AWS; checking here keeps the failure where the program is tested.
    """
    items = req.client().get_resources(restApiId=api_id, limit=500, embed=["methods"])
    methods = [
        (item.get("path"), verb, method)
        for item in items["items"]
        for verb, method in (item.get("resourceMethods") or {}).items()
    ]
    if not methods:
        raise req.fail(
            "BadRequestException (AWS check, not made by the emulator): "
            "The REST API doesn't contain any methods"
        )
    missing = sorted(
        f"{verb} {path}" for path, verb, method in methods if not method.get("methodIntegration")
    )
    if missing:
        raise req.fail(
            "BadRequestException (AWS check, not made by the emulator): "
            f"No integration defined for method(s) {', '.join(missing)}"
        )


def _access_log_patches(settings: dict[str, Any]) -> list[dict[str, str]]:
    return [
        _replace("/accessLogSettings/destinationArn", settings["destinationArn"]),
        _replace("/accessLogSettings/format", settings["format"]),
    ]


def create_stage(req: CreateRequest) -> Created:
    api_id, stage_name = req.require("restApi"), req.require("stageName")
    req.call()
    # CreateStage has no access log fields: the provider sets them with UpdateStage right
    # after, and so does this.
    if req.params("UpdateStage"):
        req.call("UpdateStage", restApiId=api_id, stageName=stage_name)
    return Created(
        f"ags-{api_id}-{stage_name}",
        {
            "arn": req.target.arn(
                "apigateway", f"/restapis/{api_id}/stages/{stage_name}", account=False
            ),
            "executionArn": req.target.arn("execute-api", f"{api_id}/{stage_name}"),
            # AWS's `https://<id>.execute-api.<region>.amazonaws.com/<stage>` does not
            # resolve here: the stage's path-style URL on the emulator's endpoint, which
            # plain HTTP clients, browsers and SigV4 signers can all use.
            "invokeUrl": f"{req.target.endpoint_url}/_aws/execute-api/{api_id}/{stage_name}",
        },
    )


def create_method_settings(req: CreateRequest) -> Created:
    method_path, settings = req.require("methodPath"), req.require("settings")
    patches = [
        _replace(f"/{method_path}/{_METHOD_SETTING_PATHS[key]}", value)
        for key, value in settings.items()
        if value is not None
    ]
    req.call(patchOperations=patches)
    return Created(f"{req.require('restApi')}-{req.require('stageName')}-{method_path}")


def create_account(req: CreateRequest) -> Created:
    req.call()
    return Created("api-gateway-account")


def _kind(
    token: str, operation: str, inputs: dict[str, Any], create: Callable[[CreateRequest], Created]
) -> ResourceKind:
    return ResourceKind(f"aws:apigateway/{token}", "apigateway", operation, inputs, create)


_METHOD_RESPONSE_INPUTS = {
    **_METHOD_INPUTS,
    "statusCode": "statusCode",
    "responseParameters": "responseParameters",
}

KINDS = [
    _kind(
        "restApi:RestApi",
        "CreateRestApi",
        {
            "name": "name",
            "description": "description",
            "endpointConfiguration": To(
                "endpointConfiguration", fields={"types": "types"}, convert=_endpoint_types
            ),
        },
        create_rest_api,
    ),
    _kind(
        "restApiPolicy:RestApiPolicy",
        "UpdateRestApi",
        {
            "restApiId": "restApiId",
            "policy": To("patchOperations", convert=lambda p: [_replace("/policy", p)]),
        },
        create_rest_api_policy,
    ),
    _kind(
        "resource:Resource",
        "CreateResource",
        {"restApi": "restApiId", "parentId": "parentId", "pathPart": "pathPart"},
        create_with_id,
    ),
    _kind(
        "method:Method",
        "PutMethod",
        {
            **_METHOD_INPUTS,
            "authorization": "authorizationType",
            "requestModels": "requestModels",
            "requestParameters": "requestParameters",
            "requestValidatorId": "requestValidatorId",
        },
        _method_part("agm"),
    ),
    _kind(
        "integration:Integration",
        "PutIntegration",
        {
            **_METHOD_INPUTS,
            "type": "type",
            "integrationHttpMethod": "integrationHttpMethod",
            "uri": "uri",
            "requestTemplates": "requestTemplates",
        },
        _method_part("agi"),
    ),
    _kind(
        "methodResponse:MethodResponse",
        "PutMethodResponse",
        _METHOD_RESPONSE_INPUTS,
        _method_part("agmr", "statusCode"),
    ),
    _kind(
        "integrationResponse:IntegrationResponse",
        "PutIntegrationResponse",
        _METHOD_RESPONSE_INPUTS,
        _method_part("agir", "statusCode"),
    ),
    # pulumi-aws 7 names the gateway response resource `apigateway.Response`.
    _kind(
        "response:Response",
        "PutGatewayResponse",
        {
            "restApiId": "restApiId",
            "responseType": "responseType",
            "statusCode": "statusCode",
            "responseParameters": "responseParameters",
            "responseTemplates": "responseTemplates",
        },
        create_gateway_response,
    ),
    _kind(
        "model:Model",
        "CreateModel",
        {
            "restApi": "restApiId",
            "name": "name",
            "contentType": "contentType",
            "description": "description",
            "schema": "schema",
        },
        create_with_id,
    ),
    _kind(
        "requestValidator:RequestValidator",
        "CreateRequestValidator",
        {
            "restApi": "restApiId",
            "name": "name",
            "validateRequestBody": "validateRequestBody",
            "validateRequestParameters": "validateRequestParameters",
        },
        create_with_id,
    ),
    _kind(
        "deployment:Deployment",
        "CreateDeployment",
        {"restApi": "restApiId", "description": "description", "triggers": UPDATES_ONLY},
        create_deployment,
    ),
    _kind(
        "stage:Stage",
        "CreateStage",
        {
            "restApi": "restApiId",
            "deployment": "deploymentId",
            "stageName": "stageName",
            "xrayTracingEnabled": "tracingEnabled",
            "accessLogSettings": To(
                "patchOperations", op="UpdateStage", convert=_access_log_patches
            ),
        },
        create_stage,
    ),
    _kind(
        "methodSettings:MethodSettings",
        "UpdateStage",
        {
            "restApi": "restApiId",
            "stageName": "stageName",
            # Both become patch operations `/<methodPath>/<setting path>`.
            "methodPath": To("patchOperations", built=True),
            "settings": To("patchOperations", built=True, fields=_METHOD_SETTING_PATHS),
        },
        create_method_settings,
    ),
    _kind(
        "account:Account",
        "UpdateAccount",
        {
            "cloudwatchRoleArn": To(
                "patchOperations", convert=lambda arn: [_replace("/cloudwatchRoleArn", arn)]
            )
        },
        create_account,
    ),
]
