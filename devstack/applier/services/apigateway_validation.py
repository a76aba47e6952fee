"""API Gateway v1 request validation: models and request validators."""

from __future__ import annotations

from devstack.applier.kinds import Created, CreateRequest, ResourceKind, drop_none


def create_model(req: CreateRequest) -> Created:
    api_id = req.require("restApi")
    model = req.client("apigateway").create_model(
        **drop_none(
            {
                "restApiId": api_id,
                "name": req.require("name"),
                "contentType": req.require("contentType"),
                "description": req.get("description") or None,
                "schema": req.get("schema"),
            }
        )
    )
    return Created(model["id"], {"name": model.get("name", req.require("name"))})


def create_request_validator(req: CreateRequest) -> Created:
    validator = req.client("apigateway").create_request_validator(
        **drop_none(
            {
                "restApiId": req.require("restApi"),
                "name": req.get("name"),
                "validateRequestBody": bool(req.get("validateRequestBody", False)),
                "validateRequestParameters": bool(req.get("validateRequestParameters", False)),
            }
        )
    )
    return Created(validator["id"])


KINDS = [
    ResourceKind(
        resource_type="aws:apigateway/model:Model",
        create=create_model,
        inputs=frozenset({"restApi", "name", "contentType", "description", "schema"}),
        note="MiniStack validates bodies against draft-04 models with Python's re for "
        "`pattern` (AWS: its own validator)",
    ),
    ResourceKind(
        resource_type="aws:apigateway/requestValidator:RequestValidator",
        create=create_request_validator,
        inputs=frozenset({"restApi", "name", "validateRequestBody", "validateRequestParameters"}),
        note="MiniStack applies a method's validator (body and required parameters) before "
        "the integration, as AWS does; refusals are the BAD_REQUEST_BODY gateway response",
    ),
]
