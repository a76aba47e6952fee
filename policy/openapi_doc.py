"""openapi.json, generated from access.py (routes, classes) and handlers/shapes.py (shapes).

Usage: python -m policy.openapi_doc > openapi.json   (what `make openapi` runs)

OpenAPI 3.0.3: its schema dialect is the one API Gateway's draft-04 models share, so the
document's schemas are the gateway's models and the functions' checks, unchanged.
Per operation:
- `security` names the SigV4 scheme (`x-amazon-apigateway-authtype: awsSigv4`, API
  Gateway's AWS_IAM); a public route has none;
- `x-pets-classes` lists the user classes whose role may call it (access.access_matrix),
  `x-pets-denied-classes` the others: their calls are refused with 403;
- `x-amazon-apigateway-request-validator` says API Gateway checks the body itself;
- every status a client should retry later documents its `Retry-After` header.
The Pet schema's properties carry `x-pets-readers` (the classes that read the field) and
`x-pets-buyer-reads` (the pet's own buyer reads it too), from access.PET_FIELDS.
"""

from __future__ import annotations

import copy
import json
import sys
from typing import Any

import access
from handlers import shapes

OPENAPI_VERSION = "3.0.3"
SECURITY_SCHEME = "sigv4"
BODY_VALIDATOR = "body"
CLASSES_KEY = "x-pets-classes"
DENIED_KEY = "x-pets-denied-classes"
READERS_KEY = "x-pets-readers"
BUYER_READS_KEY = "x-pets-buyer-reads"
RETRY_AFTER = {
    "description": "seconds to wait before sending the request again",
    "schema": {"type": "integer", "minimum": 0},
    "example": 1,
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json_content(schema_name: str, example: Any = None) -> dict[str, Any]:
    media: dict[str, Any] = {"schema": _ref(schema_name)}
    example = shapes.SCHEMAS[schema_name].get("example") if example is None else example
    if example is not None:
        media["example"] = example
    return {"application/json": media}


def _parameter(parameter: shapes.Parameter) -> dict[str, Any]:
    rendered: dict[str, Any] = {
        "name": parameter.name,
        "in": parameter.location,
        "description": parameter.description,
        "required": parameter.required,
        "schema": {k: v for k, v in parameter.schema.items() if k != "example"},
    }
    if parameter.example is not None:
        rendered["example"] = parameter.example
    return rendered


def _operation(route: access.Route, shape: shapes.RouteShape,
               classes: tuple[access.UserClass, ...]) -> dict[str, Any]:
    matrix = access.access_matrix(classes, (route,))
    allowed = [c.name for c in classes if matrix[c.name][route.id]]
    responses = {**shapes.FUNCTION_RESPONSES, **shape.responses}
    examples = {**shapes.FUNCTION_EXAMPLES, **shape.examples}
    retry_after = shapes.FUNCTION_RETRY_AFTER | shape.retry_after
    if not route.public:
        responses = {**shapes.GATEWAY_RESPONSES, **responses}
        examples = {**shapes.GATEWAY_EXAMPLES, **examples}
        retry_after |= shapes.GATEWAY_RETRY_AFTER
    operation: dict[str, Any] = {
        "operationId": route.handler,
        "summary": shape.summary,
        "description": (
            f"{route.summary}. Callable by: {', '.join(allowed) or 'nobody'}"
            + ("" if route.public else " (SigV4 with the class's role credentials)") + "."),
        "security": [] if route.public else [{SECURITY_SCHEME: []}],
        CLASSES_KEY: allowed,
        DENIED_KEY: [c.name for c in classes if c.name not in allowed],
        "responses": {
            str(status): {"description": when,
                          **({"headers": {"Retry-After": RETRY_AFTER}}
                             if status in retry_after else {}),
                          "content": _json_content(name, examples.get(status))}
            for status, (name, when) in sorted(responses.items())
        },
    }
    if shape.parameters:
        operation["parameters"] = [_parameter(p) for p in shape.parameters]
    if shape.body:
        operation["requestBody"] = {"required": True, "content": _json_content(shape.body)}
        operation["x-amazon-apigateway-request-validator"] = BODY_VALIDATOR
    return operation


def _readers(field: access.PetField, classes: tuple[access.UserClass, ...]) -> list[str]:
    return [c.name for c in classes
            if access.EVERY_CLASS in field.readers or c.name in field.readers]


def pet_schema(classes: tuple[access.UserClass, ...],
               fields: tuple[access.PetField, ...] = access.PET_FIELDS) -> dict[str, Any]:
    """The Pet schema, each property saying who reads it (access.PET_FIELDS)."""
    schema = copy.deepcopy(shapes.PET)
    declared = [f.name for f in fields]
    if sorted(declared) != sorted(schema["properties"]):
        raise ValueError(f"access.PET_FIELDS {sorted(declared)} and handlers/shapes.py PET's "
                         f"properties {sorted(schema['properties'])} differ: declare each "
                         "field of a pet in both")
    for field in fields:
        prop = schema["properties"][field.name]
        readers = _readers(field, classes)
        prop[READERS_KEY] = readers
        prop[BUYER_READS_KEY] = field.buyer_reads
        who = ", ".join(readers) or "no class"
        if field.buyer_reads:
            who += ", and the pet's own buyer (a verified ID token in X-Id-Token)"
        prop["description"] = f"{prop.get('description') or field.description or field.name}" \
                              f". Read by: {who}"
    return schema


def _schemas(pet: dict[str, Any]) -> dict[str, Any]:
    """shapes.SCHEMAS with the Pet schema, wherever it is used (PetPage's items too),
    replaced by `pet`."""

    def swap(value: Any) -> Any:
        if value is shapes.PET:
            return pet
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        if isinstance(value, list):
            return [swap(v) for v in value]
        return value

    return {name: swap(schema) for name, schema in shapes.SCHEMAS.items()}


def render(routes: tuple[access.Route, ...] = access.ROUTES,
           classes: tuple[access.UserClass, ...] = access.USER_CLASSES) -> dict[str, Any]:
    missing = [r.id for r in routes if r.id not in shapes.ROUTE_SHAPES]
    unknown = sorted(set(shapes.ROUTE_SHAPES) - {r.id for r in routes})
    if missing or unknown:
        raise ValueError(f"handlers/shapes.py ROUTE_SHAPES and access.ROUTES differ: "
                         f"no shape for {missing}, no route for {unknown}")
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(
            route, shapes.ROUTE_SHAPES[route.id], classes)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "pets",
            "version": "1",
            "description": (
                "The pets shop API. Generated by `make openapi` from access.py and "
                "handlers/shapes.py: edit those, not this file. Every error is "
                '`{"error": "..."}`, including API Gateway\'s own refusals; an answer '
                "that says to come back later (409 in progress, 429, 503, 504) carries "
                "Retry-After."),
        },
        "servers": [{
            "url": "https://{restApiId}.execute-api.{region}.amazonaws.com/{stage}",
            "variables": {"restApiId": {"default": "restApiId"},
                          "region": {"default": "us-east-1"},
                          "stage": {"default": "v1"}},
        }],
        "paths": paths,
        "components": {
            "schemas": _schemas(pet_schema(classes)),
            "securitySchemes": {SECURITY_SCHEME: {
                "type": "apiKey",
                "name": "Authorization",
                "in": "header",
                "description": (
                    "AWS Signature Version 4 (API Gateway AWS_IAM), signed with temporary "
                    "credentials of a user class's role (STS AssumeRoleWithWebIdentity with "
                    "the user's OIDC ID token); service execute-api"),
                "x-amazon-apigateway-authtype": "awsSigv4",
            }},
        },
        "x-amazon-apigateway-request-validators": {
            BODY_VALIDATOR: {"validateRequestBody": True, "validateRequestParameters": False},
        },
    }


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.buffer.write(dumps(render()).encode("utf-8"))
