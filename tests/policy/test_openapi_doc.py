"""openapi.json is what access.py and handlers/shapes.py say, and a valid OpenAPI 3 document."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

import access
from handlers import shapes
from policy import openapi_doc
from tests.support.generated import assert_up_to_date

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "openapi.json"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads(DOC.read_text(encoding="utf-8"))


def test_openapi_json_is_up_to_date():
    assert_up_to_date(DOC, openapi_doc.dumps(openapi_doc.render()),
                      source="access.py, handlers/shapes.py", command="make openapi")


def test_make_openapi_command_writes_the_doc():
    result = subprocess.run([sys.executable, "-m", "policy.openapi_doc"], cwd=ROOT,
                            env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"},
                            capture_output=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode("utf-8") == DOC.read_text(encoding="utf-8")


def test_document_is_valid_openapi(document):
    validate(document)


def test_the_validator_would_notice_a_broken_document(document):
    broken = json.loads(json.dumps(document))
    broken["paths"]["/pets"]["get"]["parameters"][0]["in"] = "cookiejar"
    with pytest.raises(OpenAPIValidationError):
        validate(broken)


def test_every_route_is_there_and_nothing_else(document):
    operations = {f"{method.upper()} {path}" for path, item in document["paths"].items()
                  for method in item}
    assert operations == {r.id for r in access.ROUTES}


def operation(document: dict[str, Any], route: access.Route) -> dict[str, Any]:
    return document["paths"][route.path][route.method.lower()]


def test_list_takes_limit_and_cursor(document):
    params = {p["name"]: p for p in operation(document, access.LIST_PETS)["parameters"]}
    assert params["limit"]["in"] == "query" and params["cursor"]["in"] == "query"
    assert params["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 100,
                                         "default": 50}
    assert not params["limit"]["required"] and not params["cursor"]["required"]
    page = document["components"]["schemas"]["PetPage"]
    assert page["required"] == ["pets"] and "nextCursor" in page["properties"]


def test_sigv4_scheme_and_classes_per_route(document):
    scheme = document["components"]["securitySchemes"][openapi_doc.SECURITY_SCHEME]
    assert scheme["x-amazon-apigateway-authtype"] == "awsSigv4"
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    matrix = access.access_matrix()
    for route in access.ROUTES:
        op = operation(document, route)
        assert op["security"] == [{openapi_doc.SECURITY_SCHEME: []}], route.id
        assert op[openapi_doc.CLASSES_KEY] == [c for c in matrix if matrix[c][route.id]]
        assert op[openapi_doc.DENIED_KEY] == [c for c in matrix if not matrix[c][route.id]]
        assert "403" in op["responses"] and "500" in op["responses"], route.id


def test_classes_follow_the_model():
    """A changed grant changes the document: buyer loses the list, a public route is open."""
    health = access.Route("GET", "/health", "health", (), public=True, summary="liveness")
    buyer = dataclasses.replace(access.BUYER, routes=(access.PURCHASE_PET,))
    shape = shapes.RouteShape(summary="liveness", responses={200: ("Error", "ok")})
    routes = (*access.ROUTES, health)
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(shapes.ROUTE_SHAPES, health.id, shape)  # type: ignore[index]
        doc = openapi_doc.render(routes, (access.ADMIN, buyer))
    assert doc["paths"]["/pets"]["get"][openapi_doc.CLASSES_KEY] == ["admin"]
    assert doc["paths"]["/pets"]["get"][openapi_doc.DENIED_KEY] == ["buyer"]
    assert doc["paths"]["/health"]["get"]["security"] == []
    assert doc["paths"]["/health"]["get"][openapi_doc.CLASSES_KEY] == ["admin", "buyer"]
    assert "403" not in doc["paths"]["/health"]["get"]["responses"]


def test_a_route_without_a_shape_is_refused():
    extra = access.Route("GET", "/owners", "list_owners", (), summary="owners")
    with pytest.raises(ValueError, match=r"no shape for \['GET /owners'\]"):
        openapi_doc.render((*access.ROUTES, extra))


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return document["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else schema


def _examples(document: dict[str, Any]):
    for name, schema in document["components"]["schemas"].items():
        yield f"schema {name}", schema, schema["example"]
    for path, item in document["paths"].items():
        for method, op in item.items():
            where = f"{method.upper()} {path}"
            media = op.get("requestBody", {}).get("content", {}).get("application/json")
            if media:
                yield f"{where} request", _resolve(document, media["schema"]), media["example"]
            for status, response in op["responses"].items():
                media = response["content"]["application/json"]
                yield (f"{where} {status}", _resolve(document, media["schema"]),
                       media["example"])
            for param in op.get("parameters", []):
                if "example" in param:
                    yield f"{where} {param['name']}", param["schema"], param["example"]


def test_every_example_matches_its_schema(document):
    errors = [r["content"]["application/json"]["example"]["error"]
              for item in document["paths"].values() for op in item.values()
              for status, r in op["responses"].items() if status != "200" and status != "201"]
    assert len(set(errors)) >= 10, "errors share a placeholder example"
    checked = 0
    for where, schema, example in _examples(document):
        errors = list(OAS30Validator(schema).iter_errors(example))
        assert not errors, f"{where}: {errors[0].message}"
        checked += 1
    assert checked >= 20


def test_an_example_that_breaks_its_schema_would_be_noticed(document):
    pet = document["components"]["schemas"]["Pet"]
    assert not OAS30Validator(pet).is_valid({**pet["example"], "price": "249.99"})
    assert not OAS30Validator(pet).is_valid({**pet["example"], "listOrder": "x"})


def test_every_body_route_has_a_gateway_validator(document):
    validators = document["x-amazon-apigateway-request-validators"]
    for route in access.ROUTES:
        op = operation(document, route)
        if "requestBody" in op:
            assert validators[op["x-amazon-apigateway-request-validator"]][
                "validateRequestBody"] is True, route.id


def test_each_pet_field_says_who_reads_it(document):
    for schema in (document["components"]["schemas"]["Pet"],
                   document["components"]["schemas"]["PetPage"]["properties"]["pets"]["items"]):
        props = schema["properties"]
        assert props["soldTo"]["x-pets-readers"] == ["admin"]
        assert props["soldTo"]["x-pets-buyer-reads"] is True
        assert props["buyerSub"]["x-pets-readers"] == ["admin"]
        assert props["soldAt"]["x-pets-readers"] == ["admin", "buyer"]
        assert props["sold"]["x-pets-readers"] == ["admin", "buyer"]
        assert "sold" in schema["required"]


def test_a_field_the_model_does_not_declare_is_refused(monkeypatch):
    fields = tuple(f for f in access.PET_FIELDS if f.name != "buyerSub")
    monkeypatch.setattr(access, "PET_FIELDS", fields)
    with pytest.raises(ValueError, match="declare each field of a pet in both"):
        openapi_doc.pet_schema(access.USER_CLASSES, fields)


@pytest.mark.parametrize(("path", "method", "status"), [
    ("/pets", "post", "409"), ("/pets", "get", "503"), ("/pets", "post", "503"),
    ("/pets/{petId}", "delete", "503"), ("/pets/purchase", "post", "503"),
    ("/pets", "get", "429"), ("/pets/purchase", "post", "504"),
])
def test_answers_that_say_when_to_retry_document_retry_after(document, path, method, status):
    response = document["paths"][path][method]["responses"][status]
    assert response["headers"]["Retry-After"]["schema"] == {"type": "integer", "minimum": 0}


def test_a_refusal_to_act_on_says_nothing_of_retrying(document):
    purchase = document["paths"]["/pets/purchase"]["post"]["responses"]
    assert "headers" not in purchase["409"] and "headers" not in purchase["404"]


def test_the_add_takes_an_idempotency_key_and_documents_its_answers(document):
    add = document["paths"]["/pets"]["post"]
    key = next(p for p in add["parameters"] if p["name"] == "Idempotency-Key")
    assert key["in"] == "header" and key["required"] is False
    assert "24 hours" in key["description"]
    assert {"409", "422"} <= set(add["responses"])
