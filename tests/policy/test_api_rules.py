"""API Gateway rules: AWS_IAM on every method, public routes by path, stage access logs."""

from __future__ import annotations

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

import access
from harness_core.recorder import ProgramRun
from policy import rules
from tests.support import pack

METHOD = "aws:apigateway/method:Method"
RESOURCE = "aws:apigateway/resource:Resource"
STAGE = "aws:apigateway/stage:Stage"
HEALTH = access.Route("GET", "/health", "health", (), public=True, summary="liveness probe")


def public_method_violations(resources: list) -> list[str]:
    return [m for m, _ in pack.stack_violations(rules.API_PUBLIC_METHODS_MATCH_MODEL, resources)]


def method(http_method: str, authorization: str) -> dict[str, str]:
    return {"restApi": "a1b2c3d4e5", "resourceId": "res", "httpMethod": http_method,
            "authorization": authorization}


def unsigned_get_on(parent: str, resources, name: str = "crafted-get") -> None:
    """Adds `GET` with authorization NONE on an existing API resource of the stack."""
    target = pack.by_name(resources, parent)
    resources.append(pack.policy_resource(METHOD, name, method("GET", "NONE"),
                                     deps={"resourceId": [target]}))


# --- resource rule: api-methods-use-aws-iam ---------------------------------------------

def test_method_without_auth_is_refused():
    messages = pack.resource_violations(rules.API_METHODS_USE_AWS_IAM, METHOD,
                                        method("GET", "NONE"))
    assert len(messages) == 1, messages
    assert "API method GET uses authorization 'NONE'" in messages[0]
    assert "set authorization='AWS_IAM'" in messages[0]
    assert "public routes: none" in messages[0]


def test_custom_authorizer_is_refused():
    messages = pack.resource_violations(rules.API_METHODS_USE_AWS_IAM, METHOD,
                                   method("POST", "CUSTOM"))
    assert ["authorization 'CUSTOM'" in m for m in messages] == [True], messages


@pytest.mark.parametrize(("http_method", "authorization"),
                         [("OPTIONS", "NONE"), ("GET", "AWS_IAM"), ("DELETE", "AWS_IAM")])
def test_signed_methods_and_preflights_pass(http_method, authorization):
    assert pack.resource_violations(rules.API_METHODS_USE_AWS_IAM, METHOD,
                               method(http_method, authorization)) == []


def test_openapi_body_is_refused():
    messages = pack.resource_violations(rules.API_METHODS_USE_AWS_IAM,
                                   "aws:apigateway/restApi:RestApi",
                                   {"name": "pets", "body": '{"openapi": "3.0.1", "paths": {}}'})
    assert len(messages) == 1 and "OpenAPI `body`" in messages[0], messages


def test_public_route_http_method_passes_resource_rule(monkeypatch):
    """With only its inputs, a NONE GET may be the public GET; the stack rule checks the path."""
    monkeypatch.setattr(access, "ROUTES", (*access.ROUTES, HEALTH))
    unsigned_get = method("GET", "NONE")
    assert pack.resource_violations(rules.API_METHODS_USE_AWS_IAM, METHOD, unsigned_get) == []
    assert pack.resource_violations(rules.API_METHODS_USE_AWS_IAM, METHOD, method("POST", "NONE"))


# --- stack rule: api-public-methods-match-model -----------------------------------------

@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
def test_unsigned_method_on_private_path_is_refused(program: ProgramRun, preview):
    """The path is found through resourceId/parentId even when every id is unknown."""
    resources = pack.policy_resources(program.declared, preview=preview)
    unsigned_get_on("pets-unit-resource-pets-var", resources)
    violations = pack.stack_violations(rules.API_PUBLIC_METHODS_MATCH_MODEL, resources)
    assert len(violations) == 1, violations
    message, urn = violations[0]
    assert "(GET /pets/{petId}) uses authorization 'NONE'" in message
    assert "access.ROUTES declares no public route GET /pets/{petId}" in message
    assert urn is not None and urn.endswith("::crafted-get")


def test_program_method_switched_to_none_is_refused(program: ProgramRun):
    resources = pack.policy_resources(program.declared)
    pack.mutate(resources, "pets-unit-method-delete-pets-var", authorization="NONE")
    messages = public_method_violations(resources)
    assert len(messages) == 1 and "(DELETE /pets/{petId})" in messages[0], messages


def test_untraceable_unsigned_method_is_refused(program: ProgramRun):
    resources = pack.policy_resources(program.declared)
    resources.append(pack.policy_resource(METHOD, "orphan", method("GET", "NONE")))
    messages = public_method_violations(resources)
    assert len(messages) == 1 and "cannot be traced" in messages[0], messages


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
def test_public_route_matches_by_path(monkeypatch, program: ProgramRun, preview):
    """GET /health is public in this model; an unsigned GET on /pets still is not."""
    monkeypatch.setattr(access, "ROUTES", (*access.ROUTES, HEALTH))
    resources = pack.policy_resources(program.declared, preview=preview)
    api = pack.by_name(resources, "pets-unit-api")
    resources.append(pack.policy_resource(
        RESOURCE, "health", {"restApi": "a1b2c3d4e5", "parentId": "rootres", "pathPart": "health"},
        deps={"parentId": [api]}))
    unsigned_get_on("health", resources, name="get-health")
    assert pack.stack_violations(rules.API_PUBLIC_METHODS_MATCH_MODEL, resources) == []
    unsigned_get_on("pets-unit-resource-pets", resources, name="get-pets")
    messages = public_method_violations(resources)
    assert len(messages) == 1 and "(GET /pets)" in messages[0], messages
    assert "public routes: GET /health" in messages[0]


def test_path_by_value_without_dependencies(monkeypatch, program: ProgramRun):
    """A literal resourceId (no dependency) is matched against the resources' ids."""
    monkeypatch.setattr(access, "ROUTES", (*access.ROUTES, HEALTH))
    resources = pack.policy_resources(program.declared)
    resources.append(pack.policy_resource(
        RESOURCE, "health", {"id": "health-id", "parentId": "rootres", "pathPart": "health"}))
    resources.append(pack.policy_resource(METHOD, "get-health",
                                     {**method("GET", "NONE"), "resourceId": "health-id"}))
    assert pack.stack_violations(rules.API_PUBLIC_METHODS_MATCH_MODEL, resources) == []
    resources.append(pack.policy_resource(
        METHOD, "get-pets", {**method("GET", "NONE"), "resourceId": "pets-unit-resource-pets-id"}))
    messages = public_method_violations(resources)
    assert len(messages) == 1 and "(GET /pets)" in messages[0], messages


def test_preflight_with_backend_integration_is_refused(program: ProgramRun):
    resources = pack.policy_resources(program.declared)
    pack.mutate(resources, "pets-unit-integration-options-pets", type="AWS_PROXY")
    violations = pack.stack_violations(rules.API_PUBLIC_METHODS_MATCH_MODEL, resources)
    assert len(violations) == 1, violations
    message, urn = violations[0]
    assert "OPTIONS /pets is unauthenticated" in message
    assert "must be a MOCK integration" in message
    assert urn.endswith("::pets-unit-integration-options-pets")


# --- resource rule: api-stage-access-logging --------------------------------------------

def test_stage_without_access_logs_is_refused():
    messages = pack.resource_violations(rules.API_STAGE_ACCESS_LOGGING, STAGE,
                                   {"stageName": "v1", "restApi": "a", "deployment": "d"})
    assert len(messages) == 1, messages
    assert "API stage 'v1' has no access logging (destinationArn, format missing)" in messages[0]
    assert "set access_log_settings" in messages[0]


def test_stage_without_log_format_is_refused():
    messages = pack.resource_violations(rules.API_STAGE_ACCESS_LOGGING, STAGE, {
        "stageName": "v1", "accessLogSettings": {"destinationArn": "arn:aws:logs:x", "format": ""}})
    assert len(messages) == 1 and "(format missing)" in messages[0], messages


def test_stage_log_destination_unknown_in_preview_passes():
    assert pack.resource_violations(rules.API_STAGE_ACCESS_LOGGING, STAGE, {
        "stageName": "v1",
        "accessLogSettings": {"destinationArn": UNKNOWN_STRING_VALUE, "format": "{}"},
    }) == []
