"""Every resource the program declared, read back from LocalStack and compared with the
inputs the program gave it (the apply's record), so a resource LocalStack stored
differently, or not at all, fails here by type and name."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

import access
from devstack.apply.results import CreatedResource
from tests.support.deployed import Deployed

Reader = Callable[[Deployed, dict[str, Any]], list[str]]


def _of_type(d: Deployed, type_: str) -> list[CreatedResource]:
    return [r for r in d.result.resources if r.type == type_]


def _doc(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _differ(what: str, declared: Any, live: Any) -> list[str]:
    return [] if declared == live else [f"{what}: declared {declared!r}, read back {live!r}"]


def _number(value: Any) -> int | None:
    return None if value is None else int(value)


# --- API Gateway ----------------------------------------------------------------------------


def _rest_api(d: Deployed, r: dict[str, Any]) -> list[str]:
    api = d.client("apigateway").get_rest_api(restApiId=r["id"])
    types = (r.get("endpointConfiguration") or {}).get("types")
    return (_differ("name", r["name"], api["name"])
            + _differ("endpoint types", [types] if isinstance(types, str) else types,
                      api["endpointConfiguration"]["types"]))


def _rest_api_policy(d: Deployed, r: dict[str, Any]) -> list[str]:
    live = d.client("apigateway").get_rest_api(restApiId=r["restApiId"]).get("policy") or ""
    # AWS returns the document JSON-escaped (`{\\"Version\\":...`); unescape before parsing.
    text = live if live.lstrip().startswith('{"') else json.loads(f'"{live}"')
    return _differ("resource policy", _doc(r["policy"]), _doc(text))


def _resource(d: Deployed, r: dict[str, Any]) -> list[str]:
    live = d.client("apigateway").get_resource(restApiId=r["restApi"], resourceId=r["id"])
    return (_differ("pathPart", r["pathPart"], live["pathPart"])
            + _differ("parentId", r["parentId"], live["parentId"]))


def _method(d: Deployed, r: dict[str, Any]) -> list[str]:
    live = d.client("apigateway").get_method(restApiId=r["restApi"], resourceId=r["resourceId"],
                                             httpMethod=r["httpMethod"])
    return (_differ("authorizationType", r["authorization"], live["authorizationType"])
            + _differ("requestValidatorId", r.get("requestValidatorId"),
                      live.get("requestValidatorId"))
            + _differ("requestModels", r.get("requestModels") or {},
                      live.get("requestModels") or {}))


def _model(d: Deployed, r: dict[str, Any]) -> list[str]:
    live = d.client("apigateway").get_model(restApiId=r["restApi"], modelName=r["name"])
    return (_differ("contentType", r["contentType"], live.get("contentType"))
            + _differ("schema", json.loads(r["schema"]), json.loads(live.get("schema") or "{}")))


def _request_validator(d: Deployed, r: dict[str, Any]) -> list[str]:
    live = d.client("apigateway").get_request_validator(restApiId=r["restApi"],
                                                        requestValidatorId=r["id"])
    return (_differ("validateRequestBody", bool(r.get("validateRequestBody")),
                    live.get("validateRequestBody", False))
            + _differ("validateRequestParameters", bool(r.get("validateRequestParameters")),
                      live.get("validateRequestParameters", False)))


def _integration(d: Deployed, r: dict[str, Any]) -> list[str]:
    live = d.client("apigateway").get_integration(
        restApiId=r["restApi"], resourceId=r["resourceId"], httpMethod=r["httpMethod"])
    found = _differ("type", r["type"], live["type"])
    if r.get("uri"):
        found += _differ("uri (the target)", r["uri"], live.get("uri"))
        found += _differ("integrationHttpMethod", r.get("integrationHttpMethod"),
                         live.get("httpMethod"))
    return found


def _response_parameters(operation: str) -> Reader:
    """A reader for a method's or an integration's response (same keys, same check)."""

    def read(d: Deployed, r: dict[str, Any]) -> list[str]:
        live = getattr(d.client("apigateway"), operation)(
            restApiId=r["restApi"], resourceId=r["resourceId"], httpMethod=r["httpMethod"],
            statusCode=r["statusCode"])
        return _differ("responseParameters", r.get("responseParameters") or {},
                       live.get("responseParameters") or {})

    return read


def _gateway_response(d: Deployed, r: dict[str, Any]) -> list[str]:
    live = d.client("apigateway").get_gateway_response(restApiId=r["restApiId"],
                                                       responseType=r["responseType"])
    return (_differ("responseParameters", r.get("responseParameters") or {},
                    live.get("responseParameters") or {})
            + _differ("responseTemplates", r.get("responseTemplates") or {},
                      live.get("responseTemplates") or {}))


def _deployment(d: Deployed, r: dict[str, Any]) -> list[str]:
    live = d.client("apigateway").get_deployment(restApiId=r["restApi"], deploymentId=r["id"])
    return _differ("description", r.get("description"), live.get("description"))


def _stage(d: Deployed, r: dict[str, Any]) -> list[str]:
    live = d.client("apigateway").get_stage(restApiId=r["restApi"], stageName=r["stageName"])
    found = _differ("deploymentId", r["deployment"], live["deploymentId"])
    logs = r.get("accessLogSettings")
    if logs:
        found += _differ("access log destination", logs["destinationArn"],
                         live.get("accessLogSettings", {}).get("destinationArn"))
        found += _differ("access log format", _doc(logs["format"]),
                         _doc(live.get("accessLogSettings", {}).get("format")))
    found += _differ("X-Ray tracing", bool(r.get("xrayTracingEnabled")),
                     bool(live.get("tracingEnabled")))
    return found


def _method_settings(d: Deployed, r: dict[str, Any]) -> list[str]:
    live = d.client("apigateway").get_stage(restApiId=r["restApi"], stageName=r["stageName"])
    settings = live.get("methodSettings", {}).get(r["methodPath"], {})
    declared = r["settings"]
    return (_differ("throttlingRateLimit", declared.get("throttlingRateLimit"),
                    settings.get("throttlingRateLimit"))
            + _differ("throttlingBurstLimit", _number(declared.get("throttlingBurstLimit")),
                      _number(settings.get("throttlingBurstLimit"))))


# --- IAM ------------------------------------------------------------------------------------


def _role(d: Deployed, r: dict[str, Any]) -> list[str]:
    live = d.client("iam").get_role(RoleName=r["name"])["Role"]
    return _differ("trust policy", _doc(r["assumeRolePolicy"]),
                   _doc(live["AssumeRolePolicyDocument"]))


def _role_policy(d: Deployed, r: dict[str, Any]) -> list[str]:
    live = d.client("iam").get_role_policy(RoleName=r["role"], PolicyName=r["name"])
    return _differ(f"policy {r['name']} of role {r['role']}", _doc(r["policy"]),
                   _doc(live["PolicyDocument"]))


def _role_policy_attachment(d: Deployed, r: dict[str, Any]) -> list[str]:
    attached = d.client("iam").list_attached_role_policies(RoleName=r["role"])
    return _differ(f"managed policies of role {r['role']}", [r["policyArn"]],
                   [p["PolicyArn"] for p in attached["AttachedPolicies"]])


def _api_gateway_account(d: Deployed, r: dict[str, Any]) -> list[str]:
    live = d.client("apigateway").get_account()
    return _differ("CloudWatch role", r["cloudwatchRoleArn"], live.get("cloudwatchRoleArn"))


def _oidc_provider(d: Deployed, r: dict[str, Any]) -> list[str]:
    live = d.client("iam").get_open_id_connect_provider(OpenIDConnectProviderArn=r["id"])
    # AWS returns the URL without its scheme; compare host and path only.
    declared = urlsplit(r["url"])
    live_url = live["Url"] if "://" in live["Url"] else f"https://{live['Url']}"
    return (_differ("url", (declared.netloc, declared.path.rstrip("/")),
                    (urlsplit(live_url).netloc, urlsplit(live_url).path.rstrip("/")))
            + _differ("client ids", sorted(r["clientIdLists"]), sorted(live["ClientIDList"])))


# --- data, functions, logs ------------------------------------------------------------------


def _table(d: Deployed, r: dict[str, Any]) -> list[str]:
    ddb = d.client("dynamodb")
    table = ddb.describe_table(TableName=r["name"])["Table"]
    found = _differ("key schema", [{"AttributeName": r["hashKey"], "KeyType": "HASH"}],
                    table["KeySchema"])
    found += _differ("attributes",
                     sorted((a["name"], a["type"]) for a in r["attributes"]),
                     sorted((a["AttributeName"], a["AttributeType"])
                            for a in table["AttributeDefinitions"]))
    found += _differ("billing mode", r["billingMode"],
                     table.get("BillingModeSummary", {}).get("BillingMode"))
    found += _differ("deletion protection", bool(r.get("deletionProtectionEnabled")),
                     bool(table.get("DeletionProtectionEnabled")))
    found += _differ("global secondary indexes",
                     [(i["name"], [(k["attributeName"], k["keyType"]) for k in i["keySchemas"]])
                      for i in r.get("globalSecondaryIndexes") or []],
                     [(i["IndexName"], [(k["AttributeName"], k["KeyType"]) for k in i["KeySchema"]])
                      for i in table.get("GlobalSecondaryIndexes") or []])
    pitr = ddb.describe_continuous_backups(TableName=r["name"])["ContinuousBackupsDescription"]
    status = pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"]
    wanted = "ENABLED" if (r.get("pointInTimeRecovery") or {}).get("enabled") else "DISABLED"
    found += _differ("point-in-time recovery", wanted, status)
    ttl = ddb.describe_time_to_live(TableName=r["name"])["TimeToLiveDescription"]
    declared_ttl = r.get("ttl") or {}
    return found + _differ(
        "time to live",
        (declared_ttl.get("attributeName"), "ENABLED" if declared_ttl.get("enabled")
         else "DISABLED"),
        (ttl.get("AttributeName"), ttl.get("TimeToLiveStatus")))


def _function(d: Deployed, r: dict[str, Any]) -> list[str]:
    live = d.client("lambda").get_function_configuration(FunctionName=r["name"])
    found = []
    for key, aws_key in (("runtime", "Runtime"), ("handler", "Handler"), ("role", "Role")):
        found += _differ(key, r[key], live[aws_key])
    for key, aws_key in (("timeout", "Timeout"), ("memorySize", "MemorySize")):
        found += _differ(key, _number(r[key]), _number(live[aws_key]))
    found += _differ("environment", r["environment"]["variables"],
                     live.get("Environment", {}).get("Variables", {}))
    found += _differ("layers", list(r.get("layers") or []),
                     [layer["Arn"] for layer in live.get("Layers", [])])
    found += _differ("tracing mode", (r.get("tracingConfig") or {}).get("mode", "PassThrough"),
                     live.get("TracingConfig", {}).get("Mode", "PassThrough"))
    reserved = d.client("lambda").get_function_concurrency(FunctionName=r["name"]).get(
        "ReservedConcurrentExecutions")
    declared = _number(r.get("reservedConcurrentExecutions"))
    found += _differ("reserved concurrency", None if declared == -1 else declared, reserved)
    return found


def _layer(d: Deployed, r: dict[str, Any]) -> list[str]:
    live = d.client("lambda").get_layer_version_by_arn(Arn=r["arn"])
    return _differ("compatible runtimes", list(r.get("compatibleRuntimes") or []),
                   live.get("CompatibleRuntimes", []))


def _permission(d: Deployed, r: dict[str, Any]) -> list[str]:
    policy = json.loads(d.client("lambda").get_policy(FunctionName=r["function"])["Policy"])
    statements = [s for s in policy["Statement"] if s.get("Sid") == r["id"]
                  or s.get("Condition", {}).get("ArnLike", {}).get("AWS:SourceArn")
                  == r["sourceArn"]]
    if not statements:
        return [f"no statement for {r['sourceArn']} in {r['function']}'s policy"]
    [statement] = statements[:1]
    return (_differ("action", r["action"], statement["Action"])
            + _differ("principal", r["principal"], statement["Principal"].get("Service")))


def _log_group(d: Deployed, r: dict[str, Any]) -> list[str]:
    groups = d.client("logs").describe_log_groups(logGroupNamePrefix=r["name"])["logGroups"]
    live = [g for g in groups if g["logGroupName"] == r["name"]]
    if not live:
        return ["log group not found"]
    return _differ("retentionInDays", _number(r.get("retentionInDays")),
                   _number(live[0].get("retentionInDays")))


# --- alarms ---------------------------------------------------------------------------------


def _topic(d: Deployed, r: dict[str, Any]) -> list[str]:
    attributes = d.client("sns").get_topic_attributes(TopicArn=r["id"])["Attributes"]
    return (_differ("arn", r["arn"], attributes.get("TopicArn"))
            + _differ("display name", r.get("displayName") or "",
                      attributes.get("DisplayName", "")))


def _subscription(d: Deployed, r: dict[str, Any]) -> list[str]:
    subscriptions = d.client("sns").list_subscriptions_by_topic(TopicArn=r["topic"])
    found = [(s["Protocol"], s["Endpoint"]) for s in subscriptions["Subscriptions"]]
    return _differ("subscription", [(r["protocol"], r["endpoint"])], found)


def _alarm(d: Deployed, r: dict[str, Any]) -> list[str]:
    alarms = d.client("cloudwatch").describe_alarms(AlarmNames=[r["name"]])["MetricAlarms"]
    if len(alarms) != 1:
        return [f"{len(alarms)} alarms named {r['name']}"]
    (live,) = alarms
    found = []
    for key, aws_key in (("alarmDescription", "AlarmDescription"),
                         ("comparisonOperator", "ComparisonOperator"),
                         ("metricName", "MetricName"), ("namespace", "Namespace"),
                         ("statistic", "Statistic"), ("extendedStatistic", "ExtendedStatistic"),
                         ("treatMissingData", "TreatMissingData")):
        found += _differ(key, r.get(key), live.get(aws_key))
    found += _differ("threshold", float(r["threshold"]), float(live["Threshold"]))
    found += _differ("evaluationPeriods", _number(r["evaluationPeriods"]),
                     _number(live["EvaluationPeriods"]))
    found += _differ("alarm actions", r["alarmActions"], live.get("AlarmActions"))
    found += _differ("dimensions", r.get("dimensions") or {},
                     {x["Name"]: x["Value"] for x in live.get("Dimensions", [])})
    found += _differ("metric query ids", sorted(q["id"] for q in r.get("metricQueries") or []),
                     sorted(q["Id"] for q in live.get("Metrics", [])))
    return found


# --- S3 -------------------------------------------------------------------------------------


def _bucket(d: Deployed, r: dict[str, Any]) -> list[str]:
    d.client("s3").head_bucket(Bucket=r["bucket"])
    return []


def _public_access_block(d: Deployed, r: dict[str, Any]) -> list[str]:
    live = d.client("s3").get_public_access_block(Bucket=r["bucket"])
    config = live["PublicAccessBlockConfiguration"]
    return [m for key in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                          "restrictPublicBuckets")
            for m in _differ(key, bool(r.get(key)), config[key[0].upper() + key[1:]])]


def _ownership(d: Deployed, r: dict[str, Any]) -> list[str]:
    live = d.client("s3").get_bucket_ownership_controls(Bucket=r["bucket"])
    return _differ("object ownership", r["rule"]["objectOwnership"],
                   live["OwnershipControls"]["Rules"][0]["ObjectOwnership"])


def _bucket_policy(d: Deployed, r: dict[str, Any]) -> list[str]:
    live = d.client("s3").get_bucket_policy(Bucket=r["bucket"])["Policy"]
    return _differ("bucket policy", _doc(r["policy"]), _doc(live))


def _website(d: Deployed, r: dict[str, Any]) -> list[str]:
    live = d.client("s3").get_bucket_website(Bucket=r["bucket"])
    return _differ("index document", r["indexDocument"]["suffix"],
                   live["IndexDocument"]["Suffix"])


def _object(d: Deployed, r: dict[str, Any]) -> list[str]:
    live = d.client("s3").get_object(Bucket=r["bucket"], Key=r["key"])
    found = _differ("content type", r.get("contentType"), live.get("ContentType"))
    body = live["Body"].read()
    if r.get("content") is not None:
        found += _differ("content", r["content"].encode(), body)
    elif r.get("source") is not None:
        found += _differ("content", Path(r["source"].path).read_bytes(), body)
    return found


READERS: dict[str, Reader] = {
    "aws:apigateway/restApi:RestApi": _rest_api,
    "aws:apigateway/restApiPolicy:RestApiPolicy": _rest_api_policy,
    "aws:apigateway/resource:Resource": _resource,
    "aws:apigateway/method:Method": _method,
    "aws:apigateway/integration:Integration": _integration,
    "aws:apigateway/methodResponse:MethodResponse": _response_parameters("get_method_response"),
    "aws:apigateway/integrationResponse:IntegrationResponse":
        _response_parameters("get_integration_response"),
    "aws:apigateway/response:Response": _gateway_response,
    "aws:apigateway/model:Model": _model,
    "aws:apigateway/requestValidator:RequestValidator": _request_validator,
    "aws:apigateway/deployment:Deployment": _deployment,
    "aws:apigateway/stage:Stage": _stage,
    "aws:apigateway/methodSettings:MethodSettings": _method_settings,
    "aws:iam/role:Role": _role,
    "aws:iam/rolePolicy:RolePolicy": _role_policy,
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": _oidc_provider,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": _role_policy_attachment,
    "aws:apigateway/account:Account": _api_gateway_account,
    "aws:dynamodb/table:Table": _table,
    "aws:lambda/function:Function": _function,
    "aws:lambda/layerVersion:LayerVersion": _layer,
    "aws:lambda/permission:Permission": _permission,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _alarm,
    "aws:sns/topic:Topic": _topic,
    "aws:sns/topicSubscription:TopicSubscription": _subscription,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _public_access_block,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _ownership,
    "aws:s3/bucketPolicy:BucketPolicy": _bucket_policy,
    "aws:s3/bucketWebsiteConfiguration:BucketWebsiteConfiguration": _website,
    "aws:s3/bucketObjectv2:BucketObjectv2": _object,
}


def _created(d: Deployed) -> list[CreatedResource]:
    """Everything `up` created: the account baseline's resources, then the app's."""
    return [*d.baseline.resources, *d.result.resources]


def test_every_created_type_has_a_reader(deployed: Deployed) -> None:
    missing = sorted({r.type for r in _created(deployed)} - set(READERS))
    assert not missing, f"no read-back for {missing}: add a reader to READERS"


def test_every_resource_reads_back_as_declared(deployed: Deployed) -> None:
    problems = []
    for resource in _created(deployed):
        reader = READERS.get(resource.type)
        if reader is None:
            continue  # reported by test_every_created_type_has_a_reader
        state = {**resource.outputs, "id": resource.id}
        try:
            found = reader(deployed, state)
        except Exception as exc:  # an AWS error reading it back is a finding too
            found = [f"{type(exc).__name__}: {exc}"]
        problems += [f"{resource.type} '{resource.name}': {m}" for m in found]
    assert not problems, "\n".join(problems)


def _methods(deployed: Deployed) -> dict[tuple[str, str], CreatedResource]:
    paths = {r.id: r for r in _of_type(deployed, "aws:apigateway/resource:Resource")}

    def path_of(resource_id: str) -> str:
        parts = []
        while resource_id in paths:
            parts.append(paths[resource_id].outputs["pathPart"])
            resource_id = paths[resource_id].outputs["parentId"]
        return "/" + "/".join(reversed(parts))

    return {(m.outputs["httpMethod"], path_of(m.outputs["resourceId"])): m
            for m in _of_type(deployed, "aws:apigateway/method:Method")}


@pytest.mark.parametrize("route", access.ROUTES, ids=lambda r: r.id)
def test_each_route_is_deployed_with_the_models_authorization(deployed: Deployed, route) -> None:
    method = _methods(deployed).get((route.method, route.path))
    assert method is not None, f"{route.id} is not deployed"
    live = deployed.client("apigateway").get_method(
        restApiId=deployed.outputs["restApiId"], resourceId=method.outputs["resourceId"],
        httpMethod=route.method)
    assert live["authorizationType"] == ("NONE" if route.public else "AWS_IAM"), route.id
    integration = live["methodIntegration"]
    assert integration["type"] == "AWS_PROXY", route.id
    functions = {f.outputs["name"]: f.outputs["arn"]
                 for f in _of_type(deployed, "aws:lambda/function:Function")}
    handler = [name for name, arn in functions.items() if arn in integration["uri"]]
    assert len(handler) == 1, f"{route.id} integrates {integration['uri']}, not one function"


def test_site_is_served_to_anonymous_browsers(deployed: Deployed) -> None:
    site = deployed.outputs["siteUrl"]
    index = requests.get(site, timeout=10)
    assert index.status_code == 200, f"GET {site} -> {index.status_code}"
    objects = {o.outputs["key"]: o for o in
               _of_type(deployed, "aws:s3/bucketObjectv2:BucketObjectv2")}
    assert index.content == Path(objects["index.html"].outputs["source"].path).read_bytes()
    config = requests.get(site.rsplit("/", 1)[0] + "/config.json", timeout=10)
    assert config.status_code == 200
    assert config.json()["apiUrl"] == deployed.outputs["apiUrl"]
