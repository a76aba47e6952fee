"""A REST API applied to the emulator as the program builds one: a Lambda proxy method behind
AWS_IAM, a CORS preflight (MOCK), a gateway response, a deployment, a stage with access logs
and throttling, API Gateway's CloudWatch role, and a role allowed to invoke one route. Applied
once for the module; each test reads back or calls one part of it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
import requests

from devstack.apply import apply_function
from devstack.apply.results import ApplyResult
from tests.support.local_apply import account_of, handler_function, handler_zip, signed_get
from tests.support.private import service_trust

CORS = {"Access-Control-Allow-Origin": "'*'", "Access-Control-Allow-Methods": "'GET,OPTIONS'"}


def api_program(unique: str, code: Path, account: str) -> Callable[[], None]:
    def program() -> None:
        fn = handler_function(f"api-{unique}", code)
        api = aws.apigateway.RestApi(
            "api", name=f"api-{unique}",
            endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(
                types="REGIONAL"))
        items = aws.apigateway.Resource("items", rest_api=api.id,
                                        parent_id=api.root_resource_id, path_part="items")
        on_items = {"rest_api": api.id, "resource_id": items.id}
        get = aws.apigateway.Method("get", **on_items, http_method="GET",
                                    authorization="AWS_IAM")
        get_integration = aws.apigateway.Integration(
            "get-integration", **on_items, http_method=get.http_method, type="AWS_PROXY",
            integration_http_method="POST", uri=fn.invoke_arn)
        aws.lambda_.Permission(
            "permission", function=fn.name, action="lambda:InvokeFunction",
            principal="apigateway.amazonaws.com",
            source_arn=api.execution_arn.apply(lambda arn: f"{arn}/*/GET/items"))
        options = aws.apigateway.Method("options", **on_items, http_method="OPTIONS",
                                        authorization="NONE")
        options_integration = aws.apigateway.Integration(
            "options-integration", **on_items, http_method=options.http_method, type="MOCK",
            request_templates={"application/json": '{"statusCode": 200}'})
        options_response = aws.apigateway.MethodResponse(
            "options-response", **on_items, http_method=options.http_method, status_code="200",
            response_parameters={f"method.response.header.{h}": True for h in CORS})
        options_integration_response = aws.apigateway.IntegrationResponse(
            "options-integration-response", **on_items, http_method=options.http_method,
            status_code=options_response.status_code,
            response_parameters={f"method.response.header.{h}": v for h, v in CORS.items()},
            opts=pulumi.ResourceOptions(depends_on=[options_integration]))
        errors = aws.apigateway.Response(
            "default-4xx", rest_api_id=api.id, response_type="DEFAULT_4XX",
            response_parameters={f"gatewayresponse.header.{h}": v for h, v in CORS.items()},
            response_templates={"application/json": '{"error": $context.error.messageString}'})
        deployment = aws.apigateway.Deployment(
            "deployment", rest_api=api.id, description="test", triggers={"shape": "v1"},
            opts=pulumi.ResourceOptions(depends_on=[
                get, get_integration, options, options_integration, options_response,
                options_integration_response, errors]))
        access_logs = aws.cloudwatch.LogGroup("access", name=f"/aws/apigateway/{unique}")
        stage = aws.apigateway.Stage(
            "stage", rest_api=api.id, deployment=deployment.id, stage_name="local",
            access_log_settings=aws.apigateway.StageAccessLogSettingsArgs(
                destination_arn=access_logs.arn, format='{"requestId":"$context.requestId"}'))
        aws.apigateway.MethodSettings(
            "settings", rest_api=api.id, stage_name=stage.stage_name, method_path="*/*",
            settings=aws.apigateway.MethodSettingsSettingsArgs(
                throttling_rate_limit=50, throttling_burst_limit=100, metrics_enabled=True))
        logs_role = aws.iam.Role(
            "apigw-logs", name=f"apigw-logs-{unique}",
            assume_role_policy=json.dumps(service_trust("apigateway.amazonaws.com")))
        aws.apigateway.Account("account", cloudwatch_role_arn=logs_role.arn)
        invoker = aws.iam.Role(
            "invoker", name=f"invoker-{unique}",
            assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                 "Action": "sts:AssumeRole"}]}))
        aws.iam.RolePolicy(
            "invoke", name="invoke", role=invoker.id,
            policy=stage.execution_arn.apply(lambda arn: json.dumps(
                {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "execute-api:Invoke",
                     "Resource": f"{arn}/GET/items"}]})))
        for key, value in {"url": stage.invoke_url, "apiId": api.id, "itemsId": items.id,
                           "invokeArn": fn.invoke_arn, "logsArn": access_logs.arn,
                           "logsRole": logs_role.arn, "invoker": invoker.arn}.items():
            pulumi.export(key, value)

    return program


@dataclass(frozen=True)
class AppliedApi:
    result: ApplyResult
    outputs: dict[str, Any]
    unique: str
    account: str
    apigateway: Any  # a root client, to read back

    @property
    def items_url(self) -> str:
        return f"{self.outputs['url']}/items"


@pytest.fixture(scope="module")
def applied(factory: Callable, tmp_path_factory: pytest.TempPathFactory) -> AppliedApi:
    unique, account = uuid.uuid4().hex[:8], account_of(factory)
    code = handler_zip(tmp_path_factory.mktemp("api"))
    result = apply_function(api_program(unique, code, account), factory)
    return AppliedApi(result, dict(result.outputs), unique, account, factory("apigateway"))


def test_get_is_a_lambda_proxy_behind_aws_iam(applied: AppliedApi) -> None:
    out = applied.outputs
    method = applied.apigateway.get_method(restApiId=out["apiId"], resourceId=out["itemsId"],
                                           httpMethod="GET")
    assert method["authorizationType"] == "AWS_IAM"
    assert method["methodIntegration"]["type"] == "AWS_PROXY"
    assert method["methodIntegration"]["uri"] == out["invokeArn"]


def test_the_gateway_response_carries_the_cors_headers(applied: AppliedApi) -> None:
    response = applied.apigateway.get_gateway_response(restApiId=applied.outputs["apiId"],
                                                       responseType="DEFAULT_4XX")
    headers = response["responseParameters"]
    assert headers["gatewayresponse.header.Access-Control-Allow-Origin"] == "'*'"


def test_the_stage_logs_and_throttles_as_declared(applied: AppliedApi) -> None:
    stage = applied.apigateway.get_stage(restApiId=applied.outputs["apiId"], stageName="local")
    assert stage["accessLogSettings"]["destinationArn"] == applied.outputs["logsArn"]
    assert stage["methodSettings"]["*/*"]["throttlingBurstLimit"] == 100
    assert stage["methodSettings"]["*/*"]["metricsEnabled"] is True


def test_the_account_names_the_cloudwatch_role(applied: AppliedApi) -> None:
    assert applied.apigateway.get_account()["cloudwatchRoleArn"] == applied.outputs["logsRole"]


def test_the_deployment_starts_after_every_part_it_serves(applied: AppliedApi) -> None:
    resources = applied.result.resources
    deployment = next(r for r in resources if r.name == "deployment")
    parts = [r for r in resources if r.type.startswith("aws:apigateway/")
             and r.name != "deployment" and r.type != "aws:apigateway/restApi:RestApi"
             and r.started < deployment.started]
    assert all(p.finished < deployment.started for p in parts) and len(parts) >= 7


def test_the_url_answers_a_cors_preflight_unsigned(applied: AppliedApi) -> None:
    preflight = requests.options(applied.items_url, timeout=10)
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"


def test_an_unsigned_get_is_refused_with_the_gateway_responses_headers(
    applied: AppliedApi,
) -> None:
    unsigned = requests.get(applied.items_url, timeout=10)
    assert unsigned.status_code == 403
    assert unsigned.headers.get("Access-Control-Allow-Origin") == "*"  # DEFAULT_4XX applied


def test_a_get_signed_by_the_invoking_role_reaches_the_function(
    applied: AppliedApi, factory: Callable,
) -> None:
    creds = factory("sts").assume_role(RoleArn=applied.outputs["invoker"],
                                       RoleSessionName="apply-test")["Credentials"]
    signed = signed_get(applied.items_url, creds)
    assert signed.status_code == 200, signed.text
    assert json.loads(signed.text)["caller"].startswith(
        f"arn:aws:sts::{applied.account}:assumed-role/invoker-{applied.unique}/")
