"""Routes that can change: a path parameter renamed in one `pulumi up`, and tables API
Gateway cannot hold refused before anything is registered.

A rename works in one update when the engine can update every part in place: each part
keeps its logical name (type and name), and only inputs the provider updates in place
change (checked in terraform-provider-aws: aws_api_gateway_resource's path_part and
aws_api_gateway_method's request_parameters are not ForceNew; every input of
aws_lambda_permission is, so its source_arn must not change).
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

import access
from components.api_paths import part_name
from handlers import shapes
from harness_core.recorder import ProgramRun, record_program
from tests.support.programs import BASE_CONFIG

RENAMED_FROM = access.REMOVE_PET.id
RENAMED = replace(access.REMOVE_PET, path="/pets/{id}")
RESOURCE = "aws:apigateway/resource:Resource"
METHOD = "aws:apigateway/method:Method"
DEPLOYMENT = "aws:apigateway/deployment:Deployment"
PERMISSION = "aws:lambda/permission:Permission"


def _route(method: str, path: str, handler: str) -> access.Route:
    return access.Route(method, path, handler, ("dynamodb:GetItem",))


# --- one variable path part per parent ---------------------------------------------------

@pytest.mark.parametrize(("first", "second", "parent"), [
    ("/pets/{petId}", "/pets/{id}", "/pets"),
    ("/{shop}", "/{store}/pets", "/"),
    ("/shops/{shop}/pets", "/shops/{store}/staff", "/shops"),
])
def test_two_variable_names_under_one_parent_are_refused(first, second, parent):
    routes = (_route("GET", first, "one"), _route("DELETE", second, "two"))
    with pytest.raises(ValueError) as refused:
        access.check_path_variables(routes)
    message = str(refused.value)
    assert f"GET {first} and DELETE {second}" in message
    assert f"{parent} has two path variables" in message
    assert "one variable path part per parent resource" in message


@pytest.mark.parametrize("paths", [
    ("/pets/{petId}", "/pets/{petId}/photo", "/pets/purchase"),  # one name; a literal beside it
    ("/shops/{shop}/pets/{pet}", "/shops/{shop}/staff/{person}"),  # different parents
])
def test_one_variable_name_per_parent_passes(paths):
    access.check_path_variables([_route("GET", p, f"h{i}") for i, p in enumerate(paths)])


def test_the_model_is_checked_at_import(monkeypatch):
    monkeypatch.setattr(access, "ROUTES", (*access.ROUTES, _route("GET", "/pets/{id}", "get")))
    message = re.escape("/pets has two path variables, {petId} and {id}")
    with pytest.raises(ValueError, match=message):
        access._check_model()


def test_the_api_builder_refuses_them_too(monkeypatch):
    """A routes tuple that never went through access.py's import check."""
    sibling = _route("GET", "/pets/{id}", "get_pet")
    monkeypatch.setattr(access, "ROUTES", (*access.ROUTES, sibling))
    monkeypatch.setitem(shapes.ROUTE_SHAPES, sibling.id, shapes.ROUTE_SHAPES[RENAMED_FROM])
    with pytest.raises(ValueError, match="one variable path part per parent resource"):
        record_program(BASE_CONFIG)


def test_a_literal_part_named_like_a_variable_is_refused(monkeypatch):
    """`/pets/var` beside `/pets/{petId}`: both parts would be `-pets-var`."""
    literal = _route("GET", "/pets/var", "get_var")
    monkeypatch.setattr(access, "ROUTES", (*access.ROUTES, literal))
    monkeypatch.setitem(shapes.ROUTE_SHAPES, literal.id, shapes.ROUTE_SHAPES[RENAMED_FROM])
    with pytest.raises(ValueError, match=re.escape("paths /pets/var and /pets/{petId} would")):
        record_program(BASE_CONFIG)


# Lambda's AddPermission StatementId; Pulumi names the statement `<logical name>-<7 hex>`.
STATEMENT_ID = re.compile(r"[a-zA-Z0-9_.-]{1,92}")


def test_permission_names_make_valid_statement_ids(program: ProgramRun):
    names = [d.name for d in program.of_type(PERMISSION)]
    assert len(names) == len(access.ROUTES)
    for name in names:
        assert STATEMENT_ID.fullmatch(name), f"{name}: not a Lambda statement id"


# --- renaming a path parameter -------------------------------------------------------------

@pytest.fixture(scope="module")
def renamed() -> ProgramRun:
    """The program with DELETE /pets/{petId} renamed to DELETE /pets/{id} everywhere."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(access, "ROUTES", tuple(
            RENAMED if r == access.REMOVE_PET else r for r in access.ROUTES))
        patch.setattr(access, "USER_CLASSES", tuple(
            replace(c, routes=tuple(RENAMED if r == access.REMOVE_PET else r for r in c.routes))
            for c in access.USER_CLASSES))
        patch.setitem(shapes.ROUTE_SHAPES, RENAMED.id, shapes.ROUTE_SHAPES[RENAMED_FROM])
        patch.delitem(shapes.ROUTE_SHAPES, RENAMED_FROM)
        return record_program(BASE_CONFIG)


def test_a_rename_keeps_every_logical_name(program: ProgramRun, renamed: ProgramRun):
    names = {(d.type, d.name) for d in program.declared}
    assert {(d.type, d.name) for d in renamed.declared} == names


def test_a_rename_changes_only_inputs_updated_in_place(program: ProgramRun, renamed: ProgramRun):
    before = {(d.type, d.name): d.inputs for d in program.declared}
    changed = {
        (d.type, d.name, key)
        for d in renamed.declared
        for key in {*d.inputs, *before[d.type, d.name]}
        if _plain(d.inputs.get(key)) != _plain(before[d.type, d.name].get(key))
    }
    assert changed == {
        (RESOURCE, "pets-unit-resource-pets-var", "pathPart"),
        (METHOD, "pets-unit-method-delete-pets-var", "requestParameters"),
        (DEPLOYMENT, "pets-unit-deployment", "triggers"),  # replaced on purpose: a new snapshot
        # Texts naming the route, outside the API: updated in place too.
        ("aws:s3/bucketObjectv2:BucketObjectv2", "pets-unit-site-file-config.json", "content"),
        ("aws:cloudwatch/metricAlarm:MetricAlarm", "pets-unit-remove-pet-errors",
         "alarmDescription"),
        ("aws:cloudwatch/metricAlarm:MetricAlarm", "pets-unit-remove-pet-throttles",
         "alarmDescription"),
    }
    assert renamed.named("pets-unit-resource-pets-var").inputs["pathPart"] == "{id}"
    assert renamed.named("pets-unit-method-delete-pets-var").inputs["requestParameters"] == {
        "method.request.path.id": True}


def test_the_function_permission_is_untouched_by_a_rename(program: ProgramRun,
                                                          renamed: ProgramRun):
    """Path parameters are `*` in execute-api ARNs; a changed source_arn would replace it."""
    name = part_name("pets-unit-permission", RENAMED.path, RENAMED.method)
    assert name == "pets-unit-permission-delete-pets-var"
    assert renamed.named(name).inputs == program.named(name).inputs
    assert renamed.named(name).inputs["sourceArn"].endswith("/v1/DELETE/pets/*")


def _plain(value: object) -> object:
    """Assets and archives compare by their path (each run makes new objects)."""
    return getattr(value, "path", value)


# --- stacks deployed before positional names keep their resources --------------------------

BEFORE = {  # the names stacks deployed before positional names have (was: parameter names)
    (RESOURCE, "pets-unit-resource-pets-var"): "pets-unit-resource-pets-petId",
    (METHOD, "pets-unit-method-delete-pets-var"): "pets-unit-method-delete-pets-petId",
    ("aws:apigateway/integration:Integration", "pets-unit-integration-delete-pets-var"):
        "pets-unit-integration-delete-pets-petId",
    (PERMISSION, "pets-unit-permission-delete-pets-var"): "pets-unit-permission-delete-pets-petId",
    (METHOD, "pets-unit-method-options-pets-var"): "pets-unit-method-options-pets-petId",
    ("aws:apigateway/integration:Integration", "pets-unit-integration-options-pets-var"):
        "pets-unit-integration-options-pets-petId",
    ("aws:apigateway/methodResponse:MethodResponse", "pets-unit-method-response-options-pets-var"):
        "pets-unit-method-response-options-pets-petId",
    ("aws:apigateway/integrationResponse:IntegrationResponse",
     "pets-unit-integration-response-options-pets-var"):
        "pets-unit-integration-response-options-pets-petId",
}


def test_renamed_parts_answer_to_their_earlier_names(program: ProgramRun):
    aliased = {(d.type, d.name): renamed for d in program.declared
               if d.type.startswith(("aws:apigateway/", "aws:lambda/permission"))
               and (renamed := tuple(a for a in d.aliases if a.name is not ...))}
    assert set(aliased) == set(BEFORE)
    for key, old in BEFORE.items():
        (alias,) = aliased[key]
        assert alias.name == old, key
        # Same type, parent, stack and project: only the name moved.
        assert (alias.type_, alias.parent, alias.stack, alias.project) == (...,) * 4, key
