"""API Gateway checks request bodies itself, against the document's schemas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft4Validator

import access
from components import api_models
from components.api_paths import part_name
from handlers import shapes
from harness_core.recorder import CDN_DOMAIN, Declared, ProgramRun, record_program
from tests.support.programs import BASE_CONFIG

DOC = json.loads((Path(__file__).resolve().parents[2] / "openapi.json").read_text())
BODY_ROUTES = [r for r in access.ROUTES if shapes.ROUTE_SHAPES[r.id].body]


def method_of(program: ProgramRun, route: access.Route) -> Declared:
    return program.named(part_name("pets-unit-method", route.path, route.method))


def test_routes_with_a_body_are_the_posts():
    assert {r.id for r in BODY_ROUTES} == {"POST /pets", "POST /pets/purchase"}


@pytest.mark.parametrize("route", BODY_ROUTES, ids=lambda r: r.id)
def test_body_routes_are_validated_by_the_gateway(program: ProgramRun, route):
    method = method_of(program, route)
    validator = program.named("pets-unit-validator-body")
    name = shapes.ROUTE_SHAPES[route.id].body
    model = program.named(f"pets-unit-model-{name.lower()}")
    assert method.inputs["requestValidatorId"] == f"{validator.name}-id"  # the mock id
    assert method.inputs["requestModels"] == {"application/json": name}
    assert validator.inputs["validateRequestBody"] is True
    assert model.inputs["contentType"] == "application/json"
    # The model is the document's schema, minus OpenAPI-only keywords.
    schema = json.loads(model.inputs["schema"])
    Draft4Validator.check_schema(schema)
    documented = DOC["components"]["schemas"][name]
    assert schema == shapes.draft4(documented)
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert "example" not in json.dumps(schema) and "x-" not in "".join(schema)


def test_routes_without_a_body_have_no_validator(program: ProgramRun):
    for route in access.ROUTES:
        if route in BODY_ROUTES:
            continue
        method = method_of(program, route)
        assert not method.inputs.get("requestValidatorId"), route.id
        assert not method.inputs.get("requestModels"), route.id


def test_a_refused_body_is_json_with_cors(program: ProgramRun):
    response = program.named("pets-unit-gateway-bad-request-body")
    assert response.inputs["responseType"] == "BAD_REQUEST_BODY"
    assert response.inputs["statusCode"] == "400"
    params = response.inputs["responseParameters"]
    # The API's CORS origin is the site's CloudFront origin, wired by the program.
    assert params["gatewayresponse.header.Access-Control-Allow-Origin"] == f"'https://{CDN_DOMAIN}'"
    assert "X-Id-Token" in params["gatewayresponse.header.Access-Control-Allow-Headers"]
    body = json.loads(response.inputs["responseTemplates"]["application/json"])
    assert body == {"error": api_models.BAD_BODY_MESSAGE}


def test_draft4_models_refuse_what_the_functions_refuse():
    """The gateway's copy of the schema judges the boundary cases as the document does."""
    new_pet = Draft4Validator(shapes.draft4(shapes.NEW_PET))
    assert new_pet.is_valid({"type": "dog", "price": 0.01})
    assert not new_pet.is_valid({"type": "dog", "price": 0})
    assert not new_pet.is_valid({"type": "dog\n", "price": 1})
    assert not new_pet.is_valid({"type": "dog", "price": 1, "owner": "me"})
    purchase = Draft4Validator(shapes.draft4(shapes.PURCHASE))
    assert purchase.is_valid({"petId": shapes.EXAMPLE_PET_ID})
    assert not purchase.is_valid({"petId": shapes.EXAMPLE_PET_ID + "\n"})


def test_a_schema_change_makes_a_new_deployment(monkeypatch, program: ProgramRun):
    monkeypatch.setitem(shapes.NEW_PET["properties"]["type"], "maxLength", 10)
    changed = record_program(BASE_CONFIG)
    assert changed.named("pets-unit-model-newpet").inputs["schema"] != (
        program.named("pets-unit-model-newpet").inputs["schema"])
    before = program.named("pets-unit-deployment").inputs["triggers"]
    after = changed.named("pets-unit-deployment").inputs["triggers"]
    assert {k for k in after if after[k] != before.get(k)} == {"pets-unit-model-newpet"}


def test_the_deployment_waits_for_the_validation(program: ProgramRun):
    """Created before the deployment, or AWS would serve the stage without them."""
    names = [d.name for d in program.declared]
    deployment = names.index("pets-unit-deployment")
    for part in ("pets-unit-validator-body", "pets-unit-model-newpet",
                 "pets-unit-gateway-bad-request-body"):
        assert names.index(part) < deployment, part
