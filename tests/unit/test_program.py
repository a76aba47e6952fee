"""The program under the mock runtime: what it would ask AWS to create.

Expectations come from the access model; policies are parsed and compared as
structures. Each failure message names the resource.
"""

from __future__ import annotations

import json

import pytest

import access
from components import policies
from components.api_paths import part_name
from components.function import HANDLER, RUNTIME
from harness_core.recorder import (
    ACCOUNT,
    API_ID,
    CDN_DOMAIN,
    REGION,
    Declared,
    ProgramRun,
    record_program,
)
from tests.support.programs import BASE_CONFIG, CLIENT_ID, ISSUER, unit_function_name

EXECUTION_ARN = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/pets-unit-pets"
IDEMPOTENCY_TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/pets-unit-idempotency"
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/pets-test.eu.auth0.com/"
KEY = "pets-test.eu.auth0.com/"


def named(program: ProgramRun, stem: str, route: access.Route) -> Declared:
    """The route's part `pets-unit-<stem>-<method>-<path>` (api.part_name)."""
    return program.named(part_name(f"pets-unit-{stem}", route.path, route.method))


def expected_arns(routes) -> set[str]:
    return {f"{EXECUTION_ARN}/v1/{r.arn_suffix}" for r in routes}


@pytest.mark.parametrize("route", access.ROUTES, ids=lambda r: r.id)
def test_route_method_requires_sigv4(program: ProgramRun, route):
    method = named(program, "method", route)
    assert method.inputs["httpMethod"] == route.method, method.name
    assert method.inputs["authorization"] == "AWS_IAM", (
        f"{method.name}: non-public route {route.id} must use AWS_IAM"
    )


@pytest.mark.parametrize("route", access.ROUTES, ids=lambda r: r.id)
def test_route_integrates_with_its_own_function(program: ProgramRun, route):
    integration = named(program, "integration", route)
    function = program.named(f"{unit_function_name(route)}-function")
    assert integration.inputs["type"] == "AWS_PROXY", integration.name
    assert integration.inputs["integrationHttpMethod"] == "POST", integration.name
    assert integration.inputs["uri"] == function.outputs["invokeArn"], integration.name


def test_every_method_is_a_route_or_a_preflight(program: ProgramRun):
    methods = {(m.inputs["httpMethod"], m.inputs["authorization"])
               for m in program.of_type("aws:apigateway/method:Method")}
    assert methods == {("GET", "AWS_IAM"), ("POST", "AWS_IAM"), ("DELETE", "AWS_IAM"),
                       ("OPTIONS", "NONE")}
    assert len(program.of_type("aws:apigateway/method:Method")) == len(access.ROUTES) + 3


@pytest.mark.parametrize(
    ("path", "verbs"),
    [("/pets", "GET,OPTIONS,POST"), ("/pets/{petId}", "DELETE,OPTIONS"),
     ("/pets/purchase", "OPTIONS,POST")],
)
def test_preflight_answers_cors_without_auth(program: ProgramRun, path, verbs):
    method = program.named(part_name("pets-unit-method", path, "OPTIONS"))
    integration = program.named(part_name("pets-unit-integration", path, "OPTIONS"))
    response = program.named(part_name("pets-unit-integration-response", path, "OPTIONS"))
    assert method.inputs["authorization"] == "NONE", method.name
    assert integration.inputs["type"] == "MOCK", integration.name
    headers = response.inputs["responseParameters"]
    assert headers["method.response.header.Access-Control-Allow-Methods"] == f"'{verbs}'"
    # Wired from the site's CloudFront origin (no corsAllowOrigin in the config).
    assert headers["method.response.header.Access-Control-Allow-Origin"] == (
        f"'https://{CDN_DOMAIN}'")
    allowed = headers["method.response.header.Access-Control-Allow-Headers"].strip("'")
    assert {"X-Id-Token", "Idempotency-Key"} <= set(allowed.split(","))


@pytest.mark.parametrize("kind", ["DEFAULT_4XX", "DEFAULT_5XX", "THROTTLED",
                                  "INTEGRATION_FAILURE", "INTEGRATION_TIMEOUT"])
def test_gateway_errors_are_json_with_cors(program: ProgramRun, kind):
    response = program.named(f"pets-unit-gateway-{kind.lower().replace('_', '-')}")
    assert response.inputs["responseType"] == kind
    params = response.inputs["responseParameters"]
    assert params["gatewayresponse.header.Access-Control-Allow-Origin"] == (
        f"'https://{CDN_DOMAIN}'"), response.name
    # A browser's script may read Retry-After only if the answer exposes it.
    assert params["gatewayresponse.header.Access-Control-Expose-Headers"] == "'Retry-After'"
    assert response.inputs["responseTemplates"]["application/json"] == (
        '{"error": $context.error.messageString}'
    )


@pytest.mark.parametrize(("kind", "retry_after"), [
    ("THROTTLED", "'1'"), ("INTEGRATION_FAILURE", "'1'"), ("INTEGRATION_TIMEOUT", "'1'"),
    ("DEFAULT_4XX", None), ("DEFAULT_5XX", None)])
def test_gateway_answers_that_should_be_retried_say_when(program: ProgramRun, kind,
                                                         retry_after):
    response = program.named(f"pets-unit-gateway-{kind.lower().replace('_', '-')}")
    assert response.inputs["responseParameters"].get(
        "gatewayresponse.header.Retry-After") == retry_after


@pytest.mark.parametrize("user_class", access.USER_CLASSES, ids=lambda c: c.name)
def test_class_role_invokes_exactly_its_routes(program: ProgramRun, user_class):
    policy = program.named(f"pets-unit-{user_class.name}-invoke").json_input("policy")
    statements = policy["Statement"]
    assert len(statements) == 1, f"{user_class.name}: one Allow statement expected"
    (statement,) = statements
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "execute-api:Invoke"
    assert set(statement["Resource"]) == expected_arns(user_class.routes), (
        f"pets-unit-{user_class.name}-invoke grants {sorted(statement['Resource'])}"
    )


def test_admin_role_cannot_buy(program: ProgramRun):
    policy = program.named("pets-unit-admin-invoke").json_input("policy")
    resources = policy["Statement"][0]["Resource"]
    assert f"{EXECUTION_ARN}/v1/POST/pets/purchase" not in resources
    assert not any(r.endswith("/*") and "/pets/" not in r for r in resources), resources


def test_buyer_role_trusts_only_social_logins_for_our_client(program: ProgramRun):
    role = program.named("pets-unit-buyer-role")
    (statement,) = role.json_input("assumeRolePolicy")["Statement"]
    assert statement["Principal"] == {"Federated": PROVIDER_ARN}, role.name
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity", role.name
    assert statement["Condition"] == {
        "StringEquals": {f"{KEY}:aud": CLIENT_ID},
        "StringLike": {f"{KEY}:sub": list(access.BUYER.members.sub_patterns)},
    }, role.name
    assert role.inputs["name"] == "pets-unit-buyer"


def test_admin_role_trusts_only_the_grant_tag_for_our_client(program: ProgramRun):
    role = program.named("pets-unit-admin-role")
    (statement,) = role.json_input("assumeRolePolicy")["Statement"]
    assert statement["Principal"] == {"Federated": PROVIDER_ARN}, role.name
    assert statement["Action"] == ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"], role.name
    assert statement["Condition"] == {
        "StringEquals": {f"{KEY}:aud": CLIENT_ID, "aws:RequestTag/pets-class": "admin"},
    }, role.name
    assert role.inputs["name"] == "pets-unit-admin"


def test_the_stack_declares_no_account_singleton(program: ProgramRun):
    """The issuer's OIDC provider and API Gateway's account settings are the account
    baseline's (account/): the stack only looks the provider up, so its roles trust the
    account's provider ARN and destroying the stack leaves other stacks' logins working."""
    assert program.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []
    assert program.of_type("aws:apigateway/account:Account") == []
    for user_class in access.USER_CLASSES:
        trust = program.named(f"pets-unit-{user_class.name}-role").json_input("assumeRolePolicy")
        assert {s["Principal"]["Federated"] for s in trust["Statement"]} == {PROVIDER_ARN}


@pytest.mark.parametrize("route", access.ROUTES, ids=lambda r: r.id)
def test_function_role_is_scoped_to_the_table_and_its_logs(program: ProgramRun, route):
    name = unit_function_name(route)
    policy = program.named(f"{name}-policy").json_input("policy")
    statements = {s["Sid"]: s for s in policy["Statement"]}
    # Queries go to the list index only (handlers/pages.py), every other action to the table.
    index = access.route_by_id("GET /pets") == route
    table = statements["PetsListIndex" if index else "PetsTable"]
    assert table["Resource"] == (f"{TABLE_ARN}/index/by-created" if index else TABLE_ARN), (
        f"{name}-policy table statement")
    assert set(table["Action"]) == set(route.table_actions), f"{name}-policy actions"
    logs = statements["OwnLogs"]
    assert logs["Resource"] == (
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{name}:*"
    ), f"{name}-policy logs statement"
    assert set(logs["Action"]) == {"logs:CreateLogStream", "logs:PutLogEvents"}
    # The idempotency table: exactly the route's idempotency actions, and only for such a route.
    records = statements.pop("IdempotencyTable", None)
    if route.idempotency_actions:
        assert records is not None, f"{name}-policy lacks the idempotency table"
        assert set(records["Action"]) == set(route.idempotency_actions)
        assert records["Resource"] == IDEMPOTENCY_TABLE_ARN
    else:
        assert records is None, f"{name}-policy grants the idempotency table"
    assert len(statements) == 2, sorted(statements)


@pytest.mark.parametrize("route", access.ROUTES, ids=lambda r: r.id)
def test_only_a_keyed_route_is_told_the_idempotency_table(program: ProgramRun, route):
    variables = program.named(f"{unit_function_name(route)}-function").inputs["environment"][
        "variables"]
    expected = "pets-unit-idempotency" if route.idempotency_actions else None
    assert variables.get("IDEMPOTENCY_TABLE_NAME") == expected


@pytest.mark.parametrize("route", access.ROUTES, ids=lambda r: r.id)
def test_every_function_is_told_what_each_class_reads(program: ProgramRun, route):
    variables = program.named(f"{unit_function_name(route)}-function").inputs["environment"][
        "variables"]
    rules = json.loads(variables["PET_READERS"])
    assert rules["roles"] == {
        f"pets-unit-{c.name}": list(access.readable_fields(c.name)) for c in access.USER_CLASSES}
    assert "soldTo" in rules["roles"]["pets-unit-admin"]
    assert "soldTo" not in rules["roles"]["pets-unit-buyer"] + rules["anyone"]
    assert set(rules["ownPurchase"]) == {"soldTo", "buyerSub"}


@pytest.mark.parametrize("route", access.ROUTES, ids=lambda r: r.id)
def test_function_runs_the_package_on_python_312(program: ProgramRun, route):
    function = program.named(f"{unit_function_name(route)}-function")
    assert function.inputs["runtime"] == RUNTIME == "python3.12"
    assert function.inputs["handler"] == HANDLER
    assert function.inputs["name"] == unit_function_name(route)
    variables = function.inputs["environment"]["variables"]
    assert variables["TABLE_NAME"] == "pets-unit-pets"
    assert variables["OIDC_ISSUER"] == ISSUER
    assert variables["OIDC_CLIENT_ID"] == CLIENT_ID
    role = program.named(f"{unit_function_name(route)}-role")
    assert function.inputs["role"] == role.outputs["arn"], function.name


@pytest.mark.parametrize("route", access.ROUTES, ids=lambda r: r.id)
def test_function_code_is_the_handlers_and_dependencies_a_layer(program: ProgramRun, route):
    function = program.named(f"{unit_function_name(route)}-function")
    layer = program.named("pets-unit-layer")
    assert function.inputs["code"].path.endswith("build/lambda/code.zip"), function.name
    assert function.inputs["layers"] == [layer.outputs["arn"]], function.name


def test_dependency_layer_is_built_for_the_function_runtime(program: ProgramRun):
    layer = program.named("pets-unit-layer")
    assert layer.inputs["layerName"] == "pets-unit-dependencies"
    assert layer.inputs["code"].path.endswith("build/lambda/layer.zip")
    assert layer.inputs["compatibleRuntimes"] == [RUNTIME]
    assert layer.inputs["compatibleArchitectures"] == ["x86_64"]


def test_missing_package_fails_with_the_command_to_run(tmp_path):
    with pytest.raises(Exception, match="make package"):
        record_program({**BASE_CONFIG, "pets:lambdaPackage": str(tmp_path)})


@pytest.mark.parametrize("route", access.ROUTES, ids=lambda r: r.id)
def test_function_log_group_has_retention(program: ProgramRun, route):
    logs = program.named(f"{unit_function_name(route)}-logs")
    assert logs.inputs["name"] == f"/aws/lambda/{unit_function_name(route)}"
    assert logs.inputs["retentionInDays"] == 30


@pytest.mark.parametrize("route", access.ROUTES, ids=lambda r: r.id)
def test_only_its_method_may_invoke_a_function(program: ProgramRun, route):
    permission = named(program, "permission", route)
    assert permission.inputs["principal"] == "apigateway.amazonaws.com"
    assert permission.inputs["function"] == unit_function_name(route)
    assert permission.inputs["sourceArn"] == f"{EXECUTION_ARN}/v1/{route.arn_suffix}"


def test_table_is_on_demand_with_pitr_and_encryption(program: ProgramRun):
    table = program.named("pets-unit-table")
    assert table.inputs["billingMode"] == "PAY_PER_REQUEST"
    assert table.inputs["hashKey"] == "petId"
    assert table.inputs["attributes"] == [{"name": "petId", "type": "S"},
                                          {"name": "listPartition", "type": "S"},
                                          {"name": "listOrder", "type": "S"}]
    # GET /pets pages through one sorted index instead of scanning the table.
    assert table.inputs["globalSecondaryIndexes"] == [{
        "name": "by-created", "projectionType": "ALL",
        "keySchemas": [{"attributeName": "listPartition", "keyType": "HASH"},
                       {"attributeName": "listOrder", "keyType": "RANGE"}]}]
    assert table.inputs["pointInTimeRecovery"] == {"enabled": True}
    assert table.inputs["serverSideEncryption"] == {"enabled": True}


def test_idempotency_table_expires_its_records_and_is_protected_like_the_pets(
        program: ProgramRun):
    table = program.named("pets-unit-idempotency-table")
    pets = program.named("pets-unit-table")
    assert table.inputs["name"] == "pets-unit-idempotency"
    assert table.inputs["billingMode"] == "PAY_PER_REQUEST"
    # Powertools' DynamoDBPersistenceLayer keys and expiry (handlers/idempotency.py).
    assert table.inputs["hashKey"] == "id"
    assert table.inputs["attributes"] == [{"name": "id", "type": "S"}]
    assert table.inputs["ttl"] == {"attributeName": "expiration", "enabled": True}
    for key in ("pointInTimeRecovery", "serverSideEncryption", "deletionProtectionEnabled"):
        assert table.inputs[key] == pets.inputs[key], key
    assert table.protect == pets.protect


def test_stage_writes_access_logs(program: ProgramRun):
    stage = program.named("pets-unit-stage")
    logs = program.named("pets-unit-access-logs")
    assert stage.inputs["stageName"] == "v1"
    settings = stage.inputs["accessLogSettings"]
    assert settings["destinationArn"] == logs.outputs["arn"]
    assert "$context.identity.userArn" in settings["format"]


def test_stage_is_throttled(program: ProgramRun):
    settings = program.named("pets-unit-method-settings").inputs
    assert settings["methodPath"] == "*/*"
    assert settings["settings"]["throttlingRateLimit"] == 100
    assert settings["settings"]["throttlingBurstLimit"] == 200


def test_stack_outputs(program: ProgramRun):
    assert program.outputs == {
        "siteUrl": f"https://{CDN_DOMAIN}/index.html",
        "apiUrl": f"https://{API_ID}.execute-api.{REGION}.amazonaws.com/v1",
        "restApiId": API_ID,
        "stage": "v1",
        "region": REGION,
        "roles": {c.name: f"arn:aws:iam::{ACCOUNT}:role/pets-unit-{c.name}"
                  for c in access.USER_CLASSES},
        "oidcIssuer": ISSUER,
        "oidcClientId": CLIENT_ID,
        "oidcClient": {
            "redirectUris": [f"https://{CDN_DOMAIN}/index.html"],
            "postLogoutRedirectUris": [f"https://{CDN_DOMAIN}/index.html"],
            "webOrigins": [f"https://{CDN_DOMAIN}"],
            "grantTypes": ["authorization_code", "refresh_token"],
            "scope": "openid email profile offline_access",
            "idTokenLifetimeSeconds": 3600,
            "refreshTokenLifetimeSeconds": 8 * 3600,
        },
        "classGrants": {"pets-unit-admin": {"pets-class": "admin"}},
        "tableName": "pets-unit-pets",
        "idempotencyTableName": "pets-unit-idempotency",
    }


def test_children_are_parented_to_components(program: ProgramRun):
    """Every AWS resource belongs to a component (so `pulumi stack` reads as a tree)."""
    components = {d.type for d in program.declared if d.type.startswith("pets:index:")}
    assert components == {"pets:index:PetsTable", "pets:index:IdempotencyTable",
                          "pets:index:RouteFunction",
                          "pets:index:DependencyLayer",
                          "pets:index:PetsApi", "pets:index:ApiStage",
                          "pets:index:UserIdentity",
                          "pets:index:UserClassRole", "pets:index:PetsSite",
                          "pets:index:StackAlarms", "pets:index:SiteHosting"}
    for resource in program.declared:
        if resource.type.startswith("aws:"):
            parent_type = (resource.graph.parent or "::::").split("::")[2].split("$")[-1]
            assert parent_type in components, (resource.type, resource.name, parent_type)


def test_membership_override_reaches_the_trust_policy():
    run = record_program({**BASE_CONFIG, "pets:userClasses":
                       '{"admin": {"subjects": ["auth0|42"], "sessionTags": {"team": "shop"}}}'})
    trust = run.named("pets-unit-admin-role").json_input("assumeRolePolicy")
    by_sid = {s["Sid"]: s for s in trust["Statement"]}
    assert set(by_sid) == {"MembersBySubject", "MembersBySessionTag"}
    assert by_sid["MembersBySubject"]["Condition"] == {
        "StringEquals": {f"{KEY}:aud": CLIENT_ID, f"{KEY}:sub": ["auth0|42"]}
    }
    assert by_sid["MembersBySessionTag"]["Action"] == [
        "sts:AssumeRoleWithWebIdentity", "sts:TagSession"]
    assert by_sid["MembersBySessionTag"]["Condition"] == {
        "StringEquals": {f"{KEY}:aud": CLIENT_ID, "aws:RequestTag/team": "shop"}
    }


def test_invalid_config_fails_before_any_resource():
    with pytest.raises(Exception, match="pets:oidcClientId"):
        record_program({"pets:oidcIssuer": ISSUER})


def test_policy_functions_match_the_declared_policies(program: ProgramRun):
    """The documents the reviewers, pack and offline engine read are the deployed ones."""
    for user_class in access.USER_CLASSES:
        declared = program.named(f"pets-unit-{user_class.name}-invoke").json_input("policy")
        assert declared == policies.invoke_policy(EXECUTION_ARN, "v1", user_class.routes)

