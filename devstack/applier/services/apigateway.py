"""API Gateway v1 (REST): APIs, resources, methods, integrations, responses, deployments,
stages, method settings and the account's CloudWatch role."""

from __future__ import annotations

from typing import Any

from devstack.applier.kinds import Created, CreateRequest, ResourceKind, drop_none

# UpdateStage patch paths for each MethodSettings setting (the provider's mapping).
_METHOD_SETTING_PATHS = {
    "metricsEnabled": "metrics/enabled",
    "loggingLevel": "logging/loglevel",
    "dataTraceEnabled": "logging/dataTrace",
    "throttlingBurstLimit": "throttling/burstLimit",
    "throttlingRateLimit": "throttling/rateLimit",
    "cachingEnabled": "caching/enabled",
    "cacheTtlInSeconds": "caching/ttlInSeconds",
    "cacheDataEncrypted": "caching/dataEncrypted",
    "requireAuthorizationForCacheControl": "caching/requireAuthorizationForCacheControl",
    "unauthorizedCacheControlHeaderStrategy": "caching/unauthorizedCacheControlHeaderStrategy",
}


def _patch_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def create_rest_api(req: CreateRequest) -> Created:
    apigw = req.client("apigateway")
    name = req.physical_name(prefix_key=None)
    endpoint = req.get("endpointConfiguration")
    endpoint_params = None
    if endpoint:
        types = endpoint.get("types")
        endpoint_params = drop_none(
            {
                # pulumi-aws 7 takes one type as a string; the API takes a list.
                "types": [types] if isinstance(types, str) else types,
                "vpcEndpointIds": endpoint.get("vpcEndpointIds") or None,
                "ipAddressType": endpoint.get("ipAddressType"),
            }
        )
    compression = req.get("minimumCompressionSize")
    api = apigw.create_rest_api(
        **drop_none(
            {
                "name": name,
                "description": req.get("description"),
                "policy": req.get("policy"),
                "endpointConfiguration": endpoint_params,
                "binaryMediaTypes": req.get("binaryMediaTypes") or None,
                # A string in pulumi-aws 7; "-1" means "no compression", i.e. leave it unset.
                "minimumCompressionSize": int(compression)
                if compression not in (None, "", "-1")
                else None,
                "apiKeySource": req.get("apiKeySource"),
                "disableExecuteApiEndpoint": req.get("disableExecuteApiEndpoint"),
                "tags": req.get("tags"),
                "securityPolicy": req.get("securityPolicy"),
                "endpointAccessMode": req.get("endpointAccessMode"),
            }
        )
    )
    api_id = api["id"]
    root_id = api.get("rootResourceId") or _root_resource_id(req, api_id)
    return Created(
        api_id,
        {
            "name": name,
            "rootResourceId": root_id,
            "executionArn": req.target.arn("execute-api", api_id),
            "arn": req.target.arn("apigateway", f"/restapis/{api_id}", account=False),
            "createdDate": str(api.get("createdDate", "")),
            "apiKeySource": api.get("apiKeySource", "HEADER"),
            "tagsAll": req.get("tags", {}),
        },
    )


def _root_resource_id(req: CreateRequest, api_id: str) -> str:
    for item in req.client("apigateway").get_resources(restApiId=api_id, limit=500)["items"]:
        if item.get("path") == "/":
            return str(item["id"])
    raise req.fail(f"REST API {api_id} has no root resource")


def create_resource(req: CreateRequest) -> Created:
    resource = req.client("apigateway").create_resource(
        restApiId=req.require("restApi"),
        parentId=req.require("parentId"),
        pathPart=req.require("pathPart"),
    )
    return Created(resource["id"], {"path": resource.get("path")})


def _method_key(req: CreateRequest, prefix: str, *extra: str) -> str:
    return "-".join(
        [
            prefix,
            req.require("restApi"),
            req.require("resourceId"),
            req.require("httpMethod"),
            *extra,
        ]
    )


def create_method(req: CreateRequest) -> Created:
    req.client("apigateway").put_method(
        **drop_none(
            {
                "restApiId": req.require("restApi"),
                "resourceId": req.require("resourceId"),
                "httpMethod": req.require("httpMethod"),
                "authorizationType": req.require("authorization"),
                "authorizerId": req.get("authorizerId"),
                "authorizationScopes": req.get("authorizationScopes") or None,
                "apiKeyRequired": req.get("apiKeyRequired"),
                "operationName": req.get("operationName"),
                "requestParameters": req.get("requestParameters") or None,
                "requestModels": req.get("requestModels") or None,
                "requestValidatorId": req.get("requestValidatorId"),
            }
        )
    )
    return Created(_method_key(req, "agm"), {"apiKeyRequired": req.get("apiKeyRequired", False)})


def create_integration(req: CreateRequest) -> Created:
    tls = req.get("tlsConfig")
    integration = req.client("apigateway").put_integration(
        **drop_none(
            {
                "restApiId": req.require("restApi"),
                "resourceId": req.require("resourceId"),
                "httpMethod": req.require("httpMethod"),
                "type": req.require("type"),
                "integrationHttpMethod": req.get("integrationHttpMethod"),
                "uri": req.get("uri"),
                "connectionType": req.get("connectionType"),
                "connectionId": req.get("connectionId"),
                "credentials": req.get("credentials"),
                "requestParameters": req.get("requestParameters") or None,
                "requestTemplates": req.get("requestTemplates") or None,
                "passthroughBehavior": req.get("passthroughBehavior"),
                "cacheNamespace": req.get("cacheNamespace"),
                "cacheKeyParameters": req.get("cacheKeyParameters") or None,
                "contentHandling": req.get("contentHandling"),
                "timeoutInMillis": req.get("timeoutMilliseconds"),
                "tlsConfig": {"insecureSkipVerification": bool(tls.get("insecureSkipVerification"))}
                if tls
                else None,
                "responseTransferMode": req.get("responseTransferMode"),
                "integrationTarget": req.get("integrationTarget"),
            }
        )
    )
    return Created(
        _method_key(req, "agi"),
        drop_none(
            {
                "cacheNamespace": integration.get("cacheNamespace"),
                "connectionType": integration.get("connectionType", "INTERNET"),
                "passthroughBehavior": integration.get("passthroughBehavior"),
                "timeoutMilliseconds": integration.get("timeoutInMillis"),
            }
        ),
    )


def create_method_response(req: CreateRequest) -> Created:
    status = req.require("statusCode")
    req.client("apigateway").put_method_response(
        **drop_none(
            {
                "restApiId": req.require("restApi"),
                "resourceId": req.require("resourceId"),
                "httpMethod": req.require("httpMethod"),
                "statusCode": status,
                "responseParameters": req.get("responseParameters") or None,
                "responseModels": req.get("responseModels") or None,
            }
        )
    )
    return Created(_method_key(req, "agmr", status))


def create_integration_response(req: CreateRequest) -> Created:
    status = req.require("statusCode")
    req.client("apigateway").put_integration_response(
        **drop_none(
            {
                "restApiId": req.require("restApi"),
                "resourceId": req.require("resourceId"),
                "httpMethod": req.require("httpMethod"),
                "statusCode": status,
                "selectionPattern": req.get("selectionPattern"),
                "responseParameters": req.get("responseParameters") or None,
                "responseTemplates": req.get("responseTemplates") or None,
                "contentHandling": req.get("contentHandling"),
            }
        )
    )
    return Created(_method_key(req, "agir", status))


def create_gateway_response(req: CreateRequest) -> Created:
    api_id = req.require("restApiId")
    response_type = req.require("responseType")
    req.client("apigateway").put_gateway_response(
        **drop_none(
            {
                "restApiId": api_id,
                "responseType": response_type,
                "statusCode": req.get("statusCode"),
                "responseParameters": req.get("responseParameters") or None,
                "responseTemplates": req.get("responseTemplates") or None,
            }
        )
    )
    return Created(f"aggr-{api_id}-{response_type}")


def create_deployment(req: CreateRequest) -> Created:
    apigw = req.client("apigateway")
    api_id = req.require("restApi")
    _check_deployable(req, api_id)
    deployment = apigw.create_deployment(
        **drop_none(
            {
                "restApiId": api_id,
                "description": req.get("description"),
                "variables": req.get("variables") or None,
            }
        )
    )
    return Created(deployment["id"], {"createdDate": str(deployment.get("createdDate", ""))})


def _check_deployable(req: CreateRequest, api_id: str) -> None:
    """The checks AWS makes before a deployment and MiniStack does not.

    AWS refuses to deploy an API without methods, or with a method that has no
    integration (BadRequestException). Locally the same program would deploy and only
    fail on AWS; checking here keeps the failure where the program is tested.
    """
    items = req.client("apigateway").get_resources(restApiId=api_id, limit=500, embed=["methods"])[
        "items"
    ]
    methods = [
        (item.get("path"), verb, m)
        for item in items
        for verb, m in (item.get("resourceMethods") or {}).items()
    ]
    if not methods:
        raise req.fail(
            "BadRequestException (AWS check, not made by the emulator): "
            "The REST API doesn't contain any methods"
        )
    missing = sorted(
        f"{verb} {path}" for path, verb, m in methods if not m.get("methodIntegration")
    )
    if missing:
        raise req.fail(
            "BadRequestException (AWS check, not made by the emulator): "
            f"No integration defined for method(s) {', '.join(missing)}"
        )


def create_stage(req: CreateRequest) -> Created:
    apigw = req.client("apigateway")
    api_id = req.require("restApi")
    stage_name = req.require("stageName")
    canary = req.get("canarySettings")
    apigw.create_stage(
        **drop_none(
            {
                "restApiId": api_id,
                "stageName": stage_name,
                "deploymentId": req.require("deployment"),
                "description": req.get("description"),
                "cacheClusterEnabled": req.get("cacheClusterEnabled"),
                "cacheClusterSize": req.get("cacheClusterSize"),
                "variables": req.get("variables") or None,
                "documentationVersion": req.get("documentationVersion"),
                "tracingEnabled": req.get("xrayTracingEnabled"),
                "tags": req.get("tags"),
                "canarySettings": drop_none(
                    {
                        "deploymentId": canary.get("deploymentId"),
                        "percentTraffic": canary.get("percentTraffic"),
                        "stageVariableOverrides": canary.get("stageVariableOverrides") or None,
                        "useStageCache": canary.get("useStageCache"),
                    }
                )
                if canary
                else None,
            }
        )
    )
    # CreateStage has no access log or client certificate fields: the provider sets them
    # with UpdateStage right after, and so does this.
    patches = []
    logs = req.get("accessLogSettings")
    if logs:
        patches += [
            {
                "op": "replace",
                "path": "/accessLogSettings/destinationArn",
                "value": logs["destinationArn"],
            },
            {"op": "replace", "path": "/accessLogSettings/format", "value": logs["format"]},
        ]
    if req.get("clientCertificateId"):
        patches.append(
            {
                "op": "replace",
                "path": "/clientCertificateId",
                "value": req.get("clientCertificateId"),
            }
        )
    if patches:
        apigw.update_stage(restApiId=api_id, stageName=stage_name, patchOperations=patches)
    return Created(
        f"ags-{api_id}-{stage_name}",
        {
            "arn": req.target.arn(
                "apigateway", f"/restapis/{api_id}/stages/{stage_name}", account=False
            ),
            "executionArn": req.target.arn("execute-api", f"{api_id}/{stage_name}"),
            "invokeUrl": _invoke_url(req, api_id, stage_name),
            "tagsAll": req.get("tags", {}),
        },
    )


def _invoke_url(req: CreateRequest, api_id: str, stage_name: str) -> str:
    """Where a client reaches the stage.

    On AWS `https://<id>.execute-api.<region>.amazonaws.com/<stage>`. On the emulator that
    host does not resolve, so the stage's path-style URL on the emulator's endpoint,
    which plain HTTP clients, browsers and SigV4 signers can all use.
    """
    if req.target.endpoint_url:
        return f"{req.target.endpoint_url}/_aws/execute-api/{api_id}/{stage_name}"
    return f"https://{api_id}.execute-api.{req.target.region}.{req.target.dns_suffix}/{stage_name}"


def create_method_settings(req: CreateRequest) -> Created:
    api_id = req.require("restApi")
    stage_name = req.require("stageName")
    method_path = req.require("methodPath")
    settings = req.require("settings")
    unknown = sorted(set(settings) - set(_METHOD_SETTING_PATHS))
    if unknown:
        raise req.fail(f"settings {', '.join(unknown)} not supported by the local apply")
    patches = [
        {"op": "replace", "path": f"/{method_path}/{path}", "value": _patch_value(settings[key])}
        for key, path in _METHOD_SETTING_PATHS.items()
        if settings.get(key) is not None
    ]
    if patches:
        req.client("apigateway").update_stage(
            restApiId=api_id, stageName=stage_name, patchOperations=patches
        )
    return Created(f"{api_id}-{stage_name}-{method_path}")


def create_account(req: CreateRequest) -> Created:
    role_arn = req.get("cloudwatchRoleArn")
    apigw = req.client("apigateway")
    account = (
        apigw.update_account(
            patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": role_arn}]
        )
        if role_arn
        else apigw.get_account()
    )
    throttle = account.get("throttleSettings") or {}
    return Created(
        "api-gateway-account",
        drop_none(
            {
                "apiKeyVersion": account.get("apiKeyVersion"),
                "features": account.get("features"),
                "throttleSettings": [
                    drop_none(
                        {
                            "burstLimit": throttle.get("burstLimit"),
                            "rateLimit": throttle.get("rateLimit"),
                        }
                    )
                ]
                if throttle
                else None,
            }
        ),
    )


def create_rest_api_policy(req: CreateRequest) -> Created:
    """The provider's RestApiPolicy: UpdateRestApi replacing /policy (id = the API's id)."""
    apigw = req.client("apigateway")
    api_id = req.require("restApiId")
    policy = req.require("policy")
    apigw.update_rest_api(
        restApiId=api_id, patchOperations=[{"op": "replace", "path": "/policy", "value": policy}]
    )
    return Created(api_id, {})


KINDS = [
    ResourceKind(
        resource_type="aws:apigateway/restApiPolicy:RestApiPolicy",
        create=create_rest_api_policy,
        inputs=frozenset({"restApiId", "policy"}),
        note="MiniStack evaluates the policy: for unsigned calls to NONE methods, and combined "
        "with the caller's identity policies for AWS_IAM methods (a Deny in either wins)",
    ),
    ResourceKind(
        resource_type="aws:apigateway/restApi:RestApi",
        create=create_rest_api,
        inputs=frozenset(
            {
                "name",
                "description",
                "policy",
                "endpointConfiguration",
                "binaryMediaTypes",
                "minimumCompressionSize",
                "apiKeySource",
                "disableExecuteApiEndpoint",
                "tags",
                "securityPolicy",
                "endpointAccessMode",
            }
        ),
        refused={
            "body": "MiniStack's ImportRestApi/PutRestApi leave the API empty",
            "parameters": "only used with body",
            "putRestApiMode": "only used with body",
            "failOnWarnings": "only used with body",
        },
    ),
    ResourceKind(
        resource_type="aws:apigateway/resource:Resource",
        create=create_resource,
        inputs=frozenset({"restApi", "parentId", "pathPart"}),
    ),
    ResourceKind(
        resource_type="aws:apigateway/method:Method",
        create=create_method,
        inputs=frozenset(
            {
                "restApi",
                "resourceId",
                "httpMethod",
                "authorization",
                "authorizerId",
                "authorizationScopes",
                "apiKeyRequired",
                "operationName",
                "requestParameters",
                "requestModels",
                "requestValidatorId",
            }
        ),
    ),
    ResourceKind(
        resource_type="aws:apigateway/integration:Integration",
        create=create_integration,
        inputs=frozenset(
            {
                "restApi",
                "resourceId",
                "httpMethod",
                "type",
                "integrationHttpMethod",
                "uri",
                "connectionType",
                "connectionId",
                "credentials",
                "requestParameters",
                "requestTemplates",
                "passthroughBehavior",
                "cacheNamespace",
                "cacheKeyParameters",
                "contentHandling",
                "timeoutMilliseconds",
                "tlsConfig",
                "responseTransferMode",
                "integrationTarget",
            }
        ),
        note="MiniStack does not check that an AWS_PROXY uri names an existing function",
    ),
    ResourceKind(
        resource_type="aws:apigateway/methodResponse:MethodResponse",
        create=create_method_response,
        inputs=frozenset(
            {
                "restApi",
                "resourceId",
                "httpMethod",
                "statusCode",
                "responseParameters",
                "responseModels",
            }
        ),
    ),
    ResourceKind(
        resource_type="aws:apigateway/integrationResponse:IntegrationResponse",
        create=create_integration_response,
        inputs=frozenset(
            {
                "restApi",
                "resourceId",
                "httpMethod",
                "statusCode",
                "selectionPattern",
                "responseParameters",
                "responseTemplates",
                "contentHandling",
            }
        ),
    ),
    ResourceKind(
        # pulumi-aws 7 names the gateway response resource `apigateway.Response`.
        resource_type="aws:apigateway/response:Response",
        create=create_gateway_response,
        inputs=frozenset(
            {"restApiId", "responseType", "statusCode", "responseParameters", "responseTemplates"}
        ),
        note="MiniStack applies DEFAULT_4XX/5XX to auth failures and 429s, not to IAM-denied 403s "
        "or Lambda-error 502s",
    ),
    ResourceKind(
        resource_type="aws:apigateway/deployment:Deployment",
        create=create_deployment,
        inputs=frozenset({"restApi", "description", "variables"}),
        ignored=frozenset({"triggers"}),
        note="the apply adds AWS's pre-deployment checks (methods exist, each has an "
        "integration), which MiniStack skips",
    ),
    ResourceKind(
        resource_type="aws:apigateway/stage:Stage",
        create=create_stage,
        inputs=frozenset(
            {
                "restApi",
                "deployment",
                "stageName",
                "description",
                "cacheClusterEnabled",
                "cacheClusterSize",
                "variables",
                "documentationVersion",
                "xrayTracingEnabled",
                "tags",
                "canarySettings",
                "accessLogSettings",
                "clientCertificateId",
            }
        ),
        note="access log settings read back but MiniStack writes no access logs; invokeUrl is the "
        "emulator's path-style URL",
    ),
    ResourceKind(
        resource_type="aws:apigateway/methodSettings:MethodSettings",
        create=create_method_settings,
        inputs=frozenset({"restApi", "stageName", "methodPath", "settings"}),
        note="throttling is enforced by MiniStack; logging levels read back, nothing is logged",
    ),
    ResourceKind(
        resource_type="aws:apigateway/account:Account",
        create=create_account,
        inputs=frozenset({"cloudwatchRoleArn"}),
        note="MiniStack accepts any role ARN, even a missing one (AWS checks the role and "
        "its trust policy)",
    ),
]
